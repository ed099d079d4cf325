//! CSV import: recognises the header layouts of Google Contacts, HubSpot and Salesforce
//! exports (and lets the rep map any other), turns each row into a customer, and reports
//! every bad row with its line number without stopping at it.

use crate::{
    model::customer::ContactPointId, model::validation, Address, CalendarDate, ContactPoint,
    Customer, CustomerId, LifecycleStage, Timestamp,
};

/// Where an export comes from, recognised by its header row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Google Contacts (the current and the older "Given Name" layout).
    GoogleContacts,
    /// HubSpot contacts export.
    HubSpot,
    /// Salesforce contacts or leads report.
    Salesforce,
    /// Anything else: columns matched by common names, the rest for the rep to map.
    Other,
}

impl Layout {
    /// The name shown to the rep.
    pub fn label(self) -> &'static str {
        match self {
            Layout::GoogleContacts => "Google Contacts",
            Layout::HubSpot => "HubSpot",
            Layout::Salesforce => "Salesforce",
            Layout::Other => "Other CSV",
        }
    }
}

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// Not imported.
    Ignore,
    /// The whole name.
    FullName,
    /// Given name.
    FirstName,
    /// Middle name.
    MiddleName,
    /// Family name.
    LastName,
    /// Company.
    Company,
    /// Job title.
    JobTitle,
    /// An email address.
    Email,
    /// A phone number.
    Phone,
    /// Street.
    Street,
    /// City.
    City,
    /// Postal code.
    PostalCode,
    /// Region or state.
    Region,
    /// Country.
    Country,
    /// Tags, separated by `;`, `,` or Google's ` ::: `.
    Tags,
    /// Notes.
    Notes,
    /// Lifecycle stage.
    Stage,
    /// Birthday.
    Birthday,
}

impl Target {
    /// Every target, in the order of the mapping menu.
    pub const ALL: [Target; 18] = [
        Target::Ignore,
        Target::FullName,
        Target::FirstName,
        Target::MiddleName,
        Target::LastName,
        Target::Company,
        Target::JobTitle,
        Target::Email,
        Target::Phone,
        Target::Street,
        Target::City,
        Target::PostalCode,
        Target::Region,
        Target::Country,
        Target::Tags,
        Target::Notes,
        Target::Stage,
        Target::Birthday,
    ];

    /// The label shown in the mapping menu.
    pub fn label(self) -> &'static str {
        match self {
            Target::Ignore => "Don't import",
            Target::FullName => "Full name",
            Target::FirstName => "First name",
            Target::MiddleName => "Middle name",
            Target::LastName => "Last name",
            Target::Company => "Company",
            Target::JobTitle => "Job title",
            Target::Email => "Email",
            Target::Phone => "Phone",
            Target::Street => "Street",
            Target::City => "City",
            Target::PostalCode => "Postal code",
            Target::Region => "Region / state",
            Target::Country => "Country",
            Target::Tags => "Tags",
            Target::Notes => "Notes",
            Target::Stage => "Lifecycle stage",
            Target::Birthday => "Birthday",
        }
    }
}

/// Header names of each layout's columns that carry a target (lowercase). A header matches
/// when it equals one of them; numbered Google columns ("E-mail 2 - Value") are matched by
/// pattern in [`target_of`].
const GOOGLE: &[(&str, Target)] = &[
    ("first name", Target::FirstName),
    ("given name", Target::FirstName),
    ("middle name", Target::MiddleName),
    ("additional name", Target::MiddleName),
    ("last name", Target::LastName),
    ("family name", Target::LastName),
    ("organization name", Target::Company),
    ("organization 1 - name", Target::Company),
    ("organization title", Target::JobTitle),
    ("organization 1 - title", Target::JobTitle),
    ("labels", Target::Tags),
    ("group membership", Target::Tags),
    ("notes", Target::Notes),
    ("birthday", Target::Birthday),
];

const HUBSPOT: &[(&str, Target)] = &[
    ("first name", Target::FirstName),
    ("last name", Target::LastName),
    ("email", Target::Email),
    ("phone number", Target::Phone),
    ("mobile phone number", Target::Phone),
    ("company name", Target::Company),
    ("job title", Target::JobTitle),
    ("street address", Target::Street),
    ("city", Target::City),
    ("postal code", Target::PostalCode),
    ("state/region", Target::Region),
    ("country/region", Target::Country),
    ("lifecycle stage", Target::Stage),
];

const SALESFORCE: &[(&str, Target)] = &[
    ("first name", Target::FirstName),
    ("last name", Target::LastName),
    ("title", Target::JobTitle),
    ("account name", Target::Company),
    ("company / account", Target::Company),
    ("email", Target::Email),
    ("phone", Target::Phone),
    ("mobile", Target::Phone),
    ("mailing street", Target::Street),
    ("mailing city", Target::City),
    ("mailing state/province", Target::Region),
    ("mailing zip/postal code", Target::PostalCode),
    ("mailing country", Target::Country),
    ("description", Target::Notes),
    ("birthdate", Target::Birthday),
];

const COMMON: &[(&str, Target)] = &[
    ("name", Target::FullName),
    ("full name", Target::FullName),
    ("first name", Target::FirstName),
    ("last name", Target::LastName),
    ("company", Target::Company),
    ("organization", Target::Company),
    ("job title", Target::JobTitle),
    ("title", Target::JobTitle),
    ("email", Target::Email),
    ("e-mail", Target::Email),
    ("phone", Target::Phone),
    ("mobile", Target::Phone),
    ("street", Target::Street),
    ("address", Target::Street),
    ("city", Target::City),
    ("postal code", Target::PostalCode),
    ("zip", Target::PostalCode),
    ("region", Target::Region),
    ("state", Target::Region),
    ("country", Target::Country),
    ("tags", Target::Tags),
    ("notes", Target::Notes),
    ("stage", Target::Stage),
    ("birthday", Target::Birthday),
];

fn table(layout: Layout) -> &'static [(&'static str, Target)] {
    match layout {
        Layout::GoogleContacts => GOOGLE,
        Layout::HubSpot => HUBSPOT,
        Layout::Salesforce => SALESFORCE,
        Layout::Other => COMMON,
    }
}

fn target_of(layout: Layout, header: &str) -> Target {
    let header = header.trim().to_lowercase();
    if layout == Layout::GoogleContacts {
        // "E-mail 1 - Value", "Phone 2 - Value", "Address 1 - City", …
        let numbered = |prefix: &str| {
            header.strip_prefix(prefix).and_then(|rest| {
                let (number, field) = rest.split_once(" - ")?;
                number
                    .trim()
                    .parse::<u8>()
                    .ok()
                    .map(|n| (n, field.to_string()))
            })
        };
        if let Some((_, field)) = numbered("e-mail ") {
            return if field == "value" {
                Target::Email
            } else {
                Target::Ignore
            };
        }
        if let Some((_, field)) = numbered("phone ") {
            return if field == "value" {
                Target::Phone
            } else {
                Target::Ignore
            };
        }
        if let Some((1, field)) = numbered("address ") {
            return match field.as_str() {
                "street" => Target::Street,
                "city" => Target::City,
                "postal code" => Target::PostalCode,
                "region" => Target::Region,
                "country" => Target::Country,
                _ => Target::Ignore,
            };
        }
    }
    table(layout)
        .iter()
        .find(|(name, _)| *name == header)
        .map_or(Target::Ignore, |&(_, target)| target)
}

/// Recognises the export's origin from its headers and maps every column.
pub fn recognise(headers: &[String]) -> (Layout, Vec<Target>) {
    let has = |name: &str| headers.iter().any(|h| h.trim().eq_ignore_ascii_case(name));
    let layout = if has("E-mail 1 - Value") || has("Given Name") || has("Organization Name") {
        Layout::GoogleContacts
    } else if has("Record ID")
        || has("Lifecycle Stage")
        || has("Company Name") && has("Phone Number")
    {
        Layout::HubSpot
    } else if has("Mailing Street") || has("Account Name") || has("Mailing City") {
        Layout::Salesforce
    } else {
        Layout::Other
    };
    let targets = headers.iter().map(|h| target_of(layout, h)).collect();
    (layout, targets)
}

/// A parsed CSV file: the header row and the records, with their line numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvFile {
    /// Column names.
    pub headers: Vec<String>,
    /// (line number in the file, fields) of each record.
    pub rows: Vec<(u64, Vec<String>)>,
    /// Lines that are not contacts and were left out, with why (a preamble before the
    /// header row, a report's footer), for the import report.
    pub skipped: Vec<(u64, String)>,
}

/// How many records at the top may come before the header row (LinkedIn's export starts
/// with a few lines of notes).
const MAX_PREAMBLE_RECORDS: usize = 20;

/// Every record of `text` split at `delimiter`, with the line it starts on (1-based, as
/// an editor shows it, whatever the line ends).
fn records(text: &str, delimiter: u8) -> Result<Vec<(u64, Vec<String>)>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut records = Vec::new();
    // Lines are counted from the byte offsets (the csv crate's own count skips blank
    // lines between CRLF records).
    let (mut counted_to, mut line) = (0usize, 1u64);
    for record in reader.records() {
        let record = record.map_err(|err| format!("the file is not valid CSV: {err}"))?;
        let mut start = record.position().map_or(counted_to, |p| {
            usize::try_from(p.byte()).unwrap_or(counted_to)
        });
        // The position can be the line end before the record (after a `\r`, its `\n`).
        let bytes = text.as_bytes();
        while bytes.get(start).is_some_and(|b| *b == b'\r' || *b == b'\n') {
            start += 1;
        }
        if let Some(between) = text.as_bytes().get(counted_to..start) {
            line += between.iter().filter(|&&b| b == b'\n').count() as u64;
            counted_to = start;
        }
        records.push((line, record.iter().map(str::to_string).collect()));
    }
    Ok(records)
}

fn filled(fields: &[String]) -> usize {
    fields.iter().filter(|f| !f.trim().is_empty()).count()
}

/// Parses CSV text: the delimiter (comma, semicolon or tab) and the header row are found
/// from the first lines — the first record of at least two filled fields is the header,
/// what comes before it is a preamble; a block of one-field lines after a blank line at
/// the end is a report's footer ("Grand Totals", "Generated By", a copyright line). A
/// UTF-8 byte-order mark is ignored; quoted fields may span lines.
pub fn parse_csv(text: &str) -> Result<CsvFile, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // The delimiter that gives the header row the most fields.
    let head: String = text
        .lines()
        .take(MAX_PREAMBLE_RECORDS + 5)
        .collect::<Vec<_>>()
        .join("\n");
    let mut delimiter = b',';
    let mut best = 0;
    for candidate in [b',', b';', b'\t'] {
        let Ok(records) = records(&head, candidate) else {
            continue;
        };
        let header_fields = records
            .iter()
            .take(MAX_PREAMBLE_RECORDS)
            .map(|(_, fields)| filled(fields))
            .find(|&n| n >= 2)
            .unwrap_or(0);
        if header_fields > best {
            best = header_fields;
            delimiter = candidate;
        }
    }
    let mut all = records(text, delimiter)?.into_iter();
    let mut skipped = Vec::new();
    let mut headers = None;
    for (line, fields) in all.by_ref().take(MAX_PREAMBLE_RECORDS) {
        if filled(&fields) >= 2 || (best < 2 && filled(&fields) == 1) {
            headers = Some(fields);
            break;
        }
        if filled(&fields) > 0 {
            skipped.push((line, "before the header row".to_string()));
        }
    }
    let Some(headers) = headers else {
        return Err("the file has no header row".into());
    };
    let headers: Vec<String> = headers.iter().map(|h| h.trim().to_string()).collect();
    let mut rows: Vec<(u64, Vec<String>)> = Vec::new();
    // (line, fields, whether a blank record came just before)
    let mut after_blank = false;
    let mut footer_from: Option<usize> = None;
    for (line, fields) in all {
        let n = filled(&fields);
        if n == 0 {
            after_blank = true;
            continue;
        }
        if n == 1 && headers.len() >= 3 {
            if after_blank && footer_from.is_none() {
                footer_from = Some(rows.len());
            }
        } else {
            footer_from = None;
        }
        after_blank = false;
        rows.push((line, fields));
    }
    if let Some(from) = footer_from {
        for (line, _) in rows.drain(from..) {
            skipped.push((line, "a report's footer".to_string()));
        }
    }
    Ok(CsvFile {
        headers,
        rows,
        skipped,
    })
}

fn stage_from(text: &str) -> Option<LifecycleStage> {
    let text = text.trim().to_lowercase();
    LifecycleStage::parse(&text).or(match text.as_str() {
        "subscriber" | "other" | "" => Some(LifecycleStage::Prospect),
        "marketingqualifiedlead"
        | "salesqualifiedlead"
        | "mql"
        | "sql"
        | "opportunity"
        | "open"
        | "contacted"
        | "qualified" => Some(LifecycleStage::Lead),
        "evangelist" => Some(LifecycleStage::Advocate),
        "closed - converted" => Some(LifecycleStage::Customer),
        _ => None,
    })
}

fn birthday_from(text: &str) -> Option<CalendarDate> {
    let text = text.trim();
    CalendarDate::parse(text).or_else(|| {
        // "12/31/1980" (US, Salesforce) or "31.12.1980".
        let parts: Vec<&str> = text.split(['/', '.']).collect();
        let [a, b, year] = parts[..] else { return None };
        let (month, day) = if text.contains('/') { (a, b) } else { (b, a) };
        CalendarDate::parse(&format!("{year}-{month}-{day}"))
    })
}

/// The customer of one row, or why the row cannot be imported. `ids` makes the record ids
/// (customer, emails, phones).
pub fn row_to_customer(
    row: &[String],
    targets: &[Target],
    ids: &mut impl FnMut() -> String,
    now: Timestamp,
) -> Result<Customer, String> {
    let id: CustomerId = ids().parse().map_err(|_| "cannot make an id".to_string())?;
    let mut customer = Customer::new(id, now);
    let (mut first, mut middle, mut last) = (String::new(), String::new(), String::new());
    let mut address = Address::default();
    let mut problems = Vec::new();
    for (value, target) in row.iter().zip(targets) {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        match target {
            Target::Ignore => {}
            Target::FullName => customer.name = value.to_string(),
            Target::FirstName => first = value.to_string(),
            Target::MiddleName => middle = value.to_string(),
            Target::LastName => last = value.to_string(),
            Target::Company => customer.company = value.to_string(),
            Target::JobTitle => customer.job_title = value.to_string(),
            Target::Email | Target::Phone => {
                // Google puts several values in one cell: "a@x.com ::: b@y.com".
                for part in value.split(":::").map(str::trim).filter(|p| !p.is_empty()) {
                    let point = ContactPoint {
                        id: ContactPointId(ids()),
                        label: "work".into(),
                        value: part.to_string(),
                    };
                    if *target == Target::Email {
                        customer.emails.push(point);
                    } else {
                        customer.phones.push(point);
                    }
                }
            }
            Target::Street => address.street = value.to_string(),
            Target::City => address.city = value.to_string(),
            Target::PostalCode => address.postal_code = value.to_string(),
            Target::Region => address.region = value.to_string(),
            Target::Country => address.country = value.to_string(),
            Target::Tags => {
                for tag in value.split([';', ',']).flat_map(|t| t.split(":::")) {
                    let tag = tag.trim().trim_start_matches('*').trim();
                    if !tag.is_empty() && tag != "myContacts" {
                        customer.tags.insert(tag);
                    }
                }
            }
            Target::Notes => customer.set_notes(value),
            Target::Stage => match stage_from(value) {
                Some(stage) => customer.stage = stage,
                None => problems.push(format!("unknown lifecycle stage \"{value}\"")),
            },
            Target::Birthday => match birthday_from(value) {
                Some(date) => customer.birthday = Some(date),
                None => problems.push(format!("\"{value}\" is not a date")),
            },
        }
    }
    if customer.name.is_empty() {
        customer.name = [first, middle, last]
            .iter()
            .filter(|part| !part.is_empty())
            .cloned()
            .collect::<Vec<_>>()
            .join(" ");
    }
    customer.address = address;
    if let Err(invalid) = validation::validate(&customer) {
        problems.extend(invalid.0.into_iter().map(|error| error.message));
    }
    if problems.is_empty() {
        Ok(customer)
    } else {
        Err(problems.join("; "))
    }
}

/// What to do with a row that matches a customer already in the book (or an earlier row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDuplicate {
    /// Leave the existing customer as it is; the row is not imported.
    Skip,
    /// Fill the existing customer's empty fields and add the row's emails, phones and tags.
    Merge,
    /// Import the row as a new customer anyway.
    Create,
}

/// Finds customers already known by the same email (case-insensitive) or phone (last nine
/// digits): the book's, then the rows added with [`DuplicateIndex::add`].
#[derive(Debug, Default)]
pub struct DuplicateIndex {
    by_email: std::collections::HashMap<String, CustomerId>,
    by_phone: std::collections::HashMap<String, CustomerId>,
}

impl DuplicateIndex {
    /// An index of the book's customers not archived.
    pub fn new(book: &crate::Book) -> DuplicateIndex {
        let mut index = DuplicateIndex::default();
        for summary in book.summaries().filter(|s| !s.archived) {
            index.insert(&summary.id, summary.emails.iter(), summary.phones.iter());
        }
        index
    }

    fn insert<'a>(
        &mut self,
        id: &CustomerId,
        emails: impl Iterator<Item = &'a String>,
        phones: impl Iterator<Item = &'a String>,
    ) {
        for email in emails {
            let key = crate::search::duplicates::normalize_email(email);
            if key.contains('@') {
                self.by_email.entry(key).or_insert_with(|| id.clone());
            }
        }
        for phone in phones {
            let key = crate::search::duplicates::phone_key(phone);
            if !key.is_empty() {
                self.by_phone.entry(key).or_insert_with(|| id.clone());
            }
        }
    }

    /// Adds a customer about to be imported, so later rows can match it.
    pub fn add(&mut self, customer: &Customer) {
        let emails: Vec<String> = customer.emails.iter().map(|e| e.value.clone()).collect();
        let phones: Vec<String> = customer.phones.iter().map(|p| p.value.clone()).collect();
        self.insert(&customer.id, emails.iter(), phones.iter());
    }

    /// The known customer with one of `customer`'s emails or phones.
    pub fn find(&self, customer: &Customer) -> Option<CustomerId> {
        customer
            .emails
            .iter()
            .find_map(|e| {
                self.by_email
                    .get(&crate::search::duplicates::normalize_email(&e.value))
            })
            .or_else(|| {
                customer.phones.iter().find_map(|p| {
                    self.by_phone
                        .get(&crate::search::duplicates::phone_key(&p.value))
                })
            })
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(line: &str) -> Vec<String> {
        parse_csv(&format!("{line}\n")).unwrap().headers
    }

    fn ids() -> impl FnMut() -> String {
        let mut n = 0;
        move || {
            n += 1;
            format!("id-{n}")
        }
    }

    #[test]
    fn google_contacts_headers_are_recognised() {
        let h = headers("First Name,Middle Name,Last Name,Organization Name,Organization Title,Birthday,Notes,Labels,E-mail 1 - Label,E-mail 1 - Value,Phone 1 - Label,Phone 1 - Value,Address 1 - City,Address 1 - Country");
        let (layout, targets) = recognise(&h);
        assert_eq!(layout, Layout::GoogleContacts);
        assert_eq!(
            targets,
            [
                Target::FirstName,
                Target::MiddleName,
                Target::LastName,
                Target::Company,
                Target::JobTitle,
                Target::Birthday,
                Target::Notes,
                Target::Tags,
                Target::Ignore,
                Target::Email,
                Target::Ignore,
                Target::Phone,
                Target::City,
                Target::Country,
            ]
        );
        let file = parse_csv("First Name,Last Name,Labels,E-mail 1 - Value\nZoë,Dupont,* myContacts ::: VIP,zoe@a.example ::: zoe@b.example\n").unwrap();
        let (_, targets) = recognise(&file.headers);
        let zoe = row_to_customer(&file.rows[0].1, &targets, &mut ids(), Timestamp(0)).unwrap();
        assert_eq!(zoe.name, "Zoë Dupont");
        assert_eq!(zoe.emails.len(), 2);
        assert_eq!(zoe.tags.iter().collect::<Vec<_>>(), ["VIP"]);
    }

    #[test]
    fn hubspot_headers_are_recognised() {
        let h = headers("Record ID,First Name,Last Name,Email,Phone Number,Company Name,Job Title,City,Country/Region,Lifecycle Stage");
        let (layout, targets) = recognise(&h);
        assert_eq!(layout, Layout::HubSpot);
        assert_eq!(
            targets,
            [
                Target::Ignore,
                Target::FirstName,
                Target::LastName,
                Target::Email,
                Target::Phone,
                Target::Company,
                Target::JobTitle,
                Target::City,
                Target::Country,
                Target::Stage,
            ]
        );
        let row: Vec<String> = [
            "1",
            "Ada",
            "Lovelace",
            "ada@example.com",
            "+44 20 7946 0000",
            "Engines Ltd",
            "CTO",
            "London",
            "UK",
            "salesqualifiedlead",
        ]
        .map(String::from)
        .to_vec();
        let ada = row_to_customer(&row, &targets, &mut ids(), Timestamp(0)).unwrap();
        assert_eq!(
            (ada.name.as_str(), ada.stage),
            ("Ada Lovelace", LifecycleStage::Lead)
        );
    }

    #[test]
    fn salesforce_headers_are_recognised() {
        let h = headers("First Name,Last Name,Title,Account Name,Mailing Street,Mailing City,Mailing Zip/Postal Code,Mailing Country,Phone,Mobile,Email,Birthdate,Description");
        let (layout, targets) = recognise(&h);
        assert_eq!(layout, Layout::Salesforce);
        assert_eq!(
            targets,
            [
                Target::FirstName,
                Target::LastName,
                Target::JobTitle,
                Target::Company,
                Target::Street,
                Target::City,
                Target::PostalCode,
                Target::Country,
                Target::Phone,
                Target::Phone,
                Target::Email,
                Target::Birthday,
                Target::Notes,
            ]
        );
        let row: Vec<String> = [
            "Jean",
            "Martin",
            "Buyer",
            "Fromagerie",
            "1 rue X",
            "Lyon",
            "69002",
            "France",
            "04 78 00 00 00",
            "06 12 34 56 78",
            "jean@f.example",
            "12/31/1980",
            "Met at the fair",
        ]
        .map(String::from)
        .to_vec();
        let jean = row_to_customer(&row, &targets, &mut ids(), Timestamp(0)).unwrap();
        assert_eq!(jean.phones.len(), 2);
        assert_eq!(jean.birthday, CalendarDate::parse("1980-12-31"));
        assert_eq!(jean.notes.as_str(), "Met at the fair");
    }

    #[test]
    fn bad_rows_say_why_and_good_rows_import() {
        let file = parse_csv("Name;Email;Phone;Birthday\nGood One;good@x.example;;\n;;;\nNo Mail;not-an-email;;\n;nobody@x.example;;\nBad Phone;;12ab;\nBad Date;;;yesterday\n\"Quoted, Name\";q@x.example;;\n").unwrap();
        assert_eq!(file.headers, ["Name", "Email", "Phone", "Birthday"]);
        let (layout, targets) = recognise(&file.headers);
        assert_eq!(layout, Layout::Other);
        let results: Vec<String> = file
            .rows
            .iter()
            .map(
                |(line, row)| match row_to_customer(row, &targets, &mut ids(), Timestamp(0)) {
                    Ok(c) => format!("{line}: ok {}", c.name),
                    Err(e) => format!("{line}: {e}"),
                },
            )
            .collect();
        assert_eq!(
            results,
            [
                "2: ok Good One",
                "4: \"not-an-email\" is not an email address (expected name@example.com)",
                "5: enter a name or a company",
                "6: \"12ab\" is not a phone number (use digits, spaces, and an optional leading +)",
                "7: \"yesterday\" is not a date",
                "8: ok Quoted, Name",
            ]
        );
    }

    #[test]
    fn the_header_is_found_after_a_preamble_and_footers_are_skipped_with_crlf_line_numbers() {
        // LinkedIn's Connections.csv starts with notes (one quoted field with commas).
        let linkedin = "Notes:\r\n\"When exporting your connection data, you may notice that some of the email addresses are missing. You will only see email addresses for connections who have allowed it, see https://www.linkedin.com/psettings/privacy/email.\"\r\n\r\nFirst Name,Last Name,URL,Email Address,Company,Position,Connected On\r\nAnna,Nowak,https://www.linkedin.com/in/anna,,\"Fleet, Ltd\",Buyer,03 Nov 2026\r\nJean,Dupont,https://www.linkedin.com/in/jd,jean@dupont.example,Dupont SA,CEO,01 Oct 2026\r\n";
        let file = parse_csv(linkedin).unwrap();
        assert_eq!(file.headers[0], "First Name");
        assert_eq!(file.headers.len(), 7);
        let lines: Vec<u64> = file.rows.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, [5, 6], "line numbers as an editor shows them");
        assert_eq!(file.rows[0].1[4], "Fleet, Ltd");
        assert_eq!(
            file.skipped,
            [
                (1, "before the header row".to_string()),
                (2, "before the header row".to_string())
            ]
        );
        // A Salesforce report: semicolons, a footer after a blank line.
        let report = "\"First Name\";\"Last Name\";\"Account Name\";\"Email\"\r\n\"Ana\";\"Silva\";\"Frota\";\"ana@frota.example\"\r\n\"Solo\";\"\";\"\";\"\"\r\n\r\n\"\"\r\n\"Grand Totals (2 records)\"\r\n\"Generated By: Jane Doe 2/15/2026 10:32 AM\"\r\n\"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved.\"\r\n";
        let file = parse_csv(report).unwrap();
        assert_eq!(
            file.headers,
            ["First Name", "Last Name", "Account Name", "Email"]
        );
        let rows: Vec<(u64, &str)> = file
            .rows
            .iter()
            .map(|(line, fields)| (*line, fields[0].as_str()))
            .collect();
        assert_eq!(
            rows,
            [(2, "Ana"), (3, "Solo")],
            "a one-field contact is kept"
        );
        let footer: Vec<u64> = file.skipped.iter().map(|(line, _)| *line).collect();
        assert_eq!(footer, [6, 7, 8]);
        // Tabs.
        let tabs = parse_csv("Name\tEmail\tCompany\nAda\tada@x.example\tX, Y\n").unwrap();
        assert_eq!(tabs.headers, ["Name", "Email", "Company"]);
        assert_eq!(tabs.rows[0].1[2], "X, Y");
    }

    #[test]
    fn a_file_without_header_is_refused() {
        assert!(parse_csv("").is_err());
        assert_eq!(parse_csv(",,\n").unwrap_err(), "the file has no header row");
    }

    #[test]
    fn rows_matching_the_book_or_earlier_rows_are_found_by_email_or_phone() {
        let mut existing = Customer::new("c1".parse().unwrap(), Timestamp(0));
        existing.name = "Ada".into();
        existing.emails.push(ContactPoint {
            id: ContactPointId("e".into()),
            label: String::new(),
            value: "Ada@Example.com".into(),
        });
        let book = crate::Book::from_summaries([crate::CustomerSummary::of(&existing)]);
        let mut index = DuplicateIndex::new(&book);
        let file = parse_csv("Name,Email,Phone\nAda L.,ada@example.com ,\nBob,,+33 6 12 34 56 78\nRobert,,06 12 34 56 78\nCleo,cleo@x.example,\n").unwrap();
        let (_, targets) = recognise(&file.headers);
        let mut next = ids();
        let mut found = Vec::new();
        for (_, row) in &file.rows {
            let customer = row_to_customer(row, &targets, &mut next, Timestamp(0)).unwrap();
            found.push(index.find(&customer).map(|id| id.to_string()));
            index.add(&customer);
        }
        assert_eq!(
            found,
            [Some("c1".to_string()), None, Some("id-3".to_string()), None]
        );
    }
}
