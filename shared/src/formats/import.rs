//! CSV import: recognises the header layouts of the common contact and CRM exports (and
//! lets the rep map any other), maps stage values with a table the rep can change, turns
//! each row into a customer, and reports every bad row and unusable value with its line
//! number without stopping at it.

use std::collections::{BTreeMap, HashMap};

use crate::{
    model::custom_fields::{guess_kind, parse_value, FieldChoice, FieldDefinition, FieldKind},
    model::customer::ContactPointId,
    model::validation,
    Address, Birthday, CalendarDate, ContactPoint, Customer, CustomerId, LifecycleStage, Timestamp,
};

/// Where an export comes from, recognised by its header row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Google Contacts (the current and the older "Given Name" layout).
    GoogleContacts,
    /// Outlook (outlook.com and classic desktop, in English, German or French).
    Outlook,
    /// HubSpot contacts export.
    HubSpot,
    /// Salesforce contacts or leads report, or a data export's API names.
    Salesforce,
    /// Zoho CRM contacts or leads export.
    Zoho,
    /// Pipedrive people export.
    Pipedrive,
    /// LinkedIn's Connections.csv.
    LinkedIn,
    /// Anything else: columns matched by common names in several languages, the rest for
    /// the rep to map.
    Other,
}

impl Layout {
    /// Every layout, for a choice on screen.
    pub const ALL: [Layout; 8] = [
        Layout::GoogleContacts,
        Layout::Outlook,
        Layout::HubSpot,
        Layout::Salesforce,
        Layout::Zoho,
        Layout::Pipedrive,
        Layout::LinkedIn,
        Layout::Other,
    ];

    /// The name shown to the rep.
    pub fn label(self) -> &'static str {
        match self {
            Layout::GoogleContacts => "Google Contacts",
            Layout::Outlook => "Outlook",
            Layout::HubSpot => "HubSpot",
            Layout::Salesforce => "Salesforce",
            Layout::Zoho => "Zoho CRM",
            Layout::Pipedrive => "Pipedrive",
            Layout::LinkedIn => "LinkedIn connections",
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
    /// Mr., Ms., Dr. (Outlook's "Title"): put before the name.
    Honorific,
    /// Given name.
    FirstName,
    /// Middle name.
    MiddleName,
    /// Family name.
    LastName,
    /// Jr., III, PhD: put after the name.
    Suffix,
    /// Company.
    Company,
    /// Job title.
    JobTitle,
    /// An email address.
    Email,
    /// A phone number (work).
    Phone,
    /// A mobile phone number.
    MobilePhone,
    /// A home phone number.
    HomePhone,
    /// A personal email address.
    PersonalEmail,
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
    /// Who looks after the customer.
    Owner,
    /// A part of a second (home) address: kept in the notes, the customer has one address.
    HomeAddress,
    /// The label of the email column that follows (Google's "E-mail 1 - Label" before
    /// "E-mail 1 - Value").
    EmailLabel,
    /// The label of the phone column that follows (Google's "Phone 1 - Label").
    PhoneLabel,
}

impl Target {
    /// Every target, in the order of the mapping menu.
    pub const ALL: [Target; 27] = [
        Target::Ignore,
        Target::FullName,
        Target::Honorific,
        Target::FirstName,
        Target::MiddleName,
        Target::LastName,
        Target::Suffix,
        Target::Company,
        Target::JobTitle,
        Target::Email,
        Target::PersonalEmail,
        Target::Phone,
        Target::MobilePhone,
        Target::HomePhone,
        Target::Street,
        Target::City,
        Target::PostalCode,
        Target::Region,
        Target::Country,
        Target::Tags,
        Target::Notes,
        Target::Stage,
        Target::Birthday,
        Target::Owner,
        Target::HomeAddress,
        Target::EmailLabel,
        Target::PhoneLabel,
    ];

    /// The label shown in the mapping menu.
    pub fn label(self) -> &'static str {
        match self {
            Target::Ignore => "Don't import",
            Target::FullName => "Full name",
            Target::Honorific => "Honorific (Mr., Dr.)",
            Target::FirstName => "First name",
            Target::MiddleName => "Middle name",
            Target::LastName => "Last name",
            Target::Suffix => "Name suffix (Jr., PhD)",
            Target::Company => "Company",
            Target::JobTitle => "Job title",
            Target::Email => "Email",
            Target::PersonalEmail => "Email (personal)",
            Target::Phone => "Phone",
            Target::MobilePhone => "Phone (mobile)",
            Target::HomePhone => "Phone (home)",
            Target::Street => "Street",
            Target::City => "City",
            Target::PostalCode => "Postal code",
            Target::Region => "Region / state",
            Target::Country => "Country",
            Target::Tags => "Tags",
            Target::Notes => "Notes",
            Target::Stage => "Lifecycle stage",
            Target::Birthday => "Birthday",
            Target::Owner => "Owner",
            Target::HomeAddress => "Home address (to the notes)",
            Target::EmailLabel => "Label of the next email column",
            Target::PhoneLabel => "Label of the next phone column",
        }
    }

    /// Whether several columns may feed this target (emails, phones, tags, notes).
    pub fn has_many(self) -> bool {
        matches!(
            self,
            Target::Ignore
                | Target::Email
                | Target::PersonalEmail
                | Target::Phone
                | Target::MobilePhone
                | Target::HomePhone
                | Target::Tags
                | Target::Notes
                | Target::HomeAddress
                | Target::EmailLabel
                | Target::PhoneLabel
        )
    }
}

/// A header as the tables name it: lower case, letters and digits only ("E-mail 2
/// Address" → "email2address", "MailingStreet" and "Mailing Street" → "mailingstreet").
fn compact(header: &str) -> String {
    header
        .chars()
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric())
        .collect()
}

use Target as T;

/// Each layout's columns that carry a target, by [`compact`] header. Columns not listed
/// are not imported (and the report counts their values).
const GOOGLE: &[(&str, Target)] = &[
    ("name", T::FullName),
    ("firstname", T::FirstName),
    ("givenname", T::FirstName),
    ("middlename", T::MiddleName),
    ("additionalname", T::MiddleName),
    ("lastname", T::LastName),
    ("familyname", T::LastName),
    ("nameprefix", T::Honorific),
    ("namesuffix", T::Suffix),
    ("organizationname", T::Company),
    ("organization1name", T::Company),
    ("organizationtitle", T::JobTitle),
    ("organization1title", T::JobTitle),
    ("labels", T::Tags),
    ("groupmembership", T::Tags),
    ("notes", T::Notes),
    ("birthday", T::Birthday),
];

const OUTLOOK: &[(&str, Target)] = &[
    // English (outlook.com and classic).
    ("title", T::Honorific),
    ("firstname", T::FirstName),
    ("middlename", T::MiddleName),
    ("lastname", T::LastName),
    ("suffix", T::Suffix),
    ("company", T::Company),
    ("jobtitle", T::JobTitle),
    ("emailaddress", T::Email),
    ("email2address", T::Email),
    ("email3address", T::Email),
    ("businessphone", T::Phone),
    ("businessphone2", T::Phone),
    ("companymainphone", T::Phone),
    ("mobilephone", T::MobilePhone),
    ("homephone", T::HomePhone),
    ("homephone2", T::HomePhone),
    ("otherphone", T::Phone),
    ("primaryphone", T::Phone),
    ("businessstreet", T::Street),
    ("businesscity", T::City),
    ("businessstate", T::Region),
    ("businesspostalcode", T::PostalCode),
    ("businesscountryregion", T::Country),
    ("homestreet", T::HomeAddress),
    ("homecity", T::HomeAddress),
    ("homestate", T::HomeAddress),
    ("homepostalcode", T::HomeAddress),
    ("homecountryregion", T::HomeAddress),
    ("birthday", T::Birthday),
    ("categories", T::Tags),
    ("notes", T::Notes),
    // German.
    ("anrede", T::Honorific),
    ("vorname", T::FirstName),
    ("weiterevornamen", T::MiddleName),
    ("nachname", T::LastName),
    ("firma", T::Company),
    ("position", T::JobTitle),
    ("emailadresse", T::Email),
    ("email2adresse", T::Email),
    ("email3adresse", T::Email),
    ("telefongeschäftlich", T::Phone),
    ("telefongeschäftlich2", T::Phone),
    ("mobiltelefon", T::MobilePhone),
    ("telefonprivat", T::HomePhone),
    ("straßegeschäftlich", T::Street),
    ("ortgeschäftlich", T::City),
    ("regiongeschäftlich", T::Region),
    ("postleitzahlgeschäftlich", T::PostalCode),
    ("landregiongeschäftlich", T::Country),
    ("straßeprivat", T::HomeAddress),
    ("ortprivat", T::HomeAddress),
    ("postleitzahlprivat", T::HomeAddress),
    ("landregionprivat", T::HomeAddress),
    ("geburtstag", T::Birthday),
    ("kategorien", T::Tags),
    ("notizen", T::Notes),
    // French (the first "Titre" is the honorific, a second one the job title).
    ("titre", T::Honorific),
    ("prénom", T::FirstName),
    ("deuxièmeprénom", T::MiddleName),
    ("nom", T::LastName),
    ("suffixe", T::Suffix),
    ("société", T::Company),
    ("adressedemessagerie", T::Email),
    ("adressedemessagerie2", T::Email),
    ("adressedemessagerie3", T::Email),
    ("téléphonebureau", T::Phone),
    ("téléphone2bureau", T::Phone),
    ("télmobile", T::MobilePhone),
    ("téléphonedomicile", T::HomePhone),
    ("ruebureau", T::Street),
    ("villebureau", T::City),
    ("déprégionbureau", T::Region),
    ("codepostalbureau", T::PostalCode),
    ("paysrégionbureau", T::Country),
    ("ruedomicile", T::HomeAddress),
    ("villedomicile", T::HomeAddress),
    ("codepostaldomicile", T::HomeAddress),
    ("paysrégiondomicile", T::HomeAddress),
    ("anniversaire", T::Birthday),
    ("catégories", T::Tags),
];

const HUBSPOT: &[(&str, Target)] = &[
    ("firstname", T::FirstName),
    ("lastname", T::LastName),
    ("email", T::Email),
    ("additionalemailaddresses", T::Email),
    ("phonenumber", T::Phone),
    ("mobilephonenumber", T::MobilePhone),
    ("companyname", T::Company),
    ("jobtitle", T::JobTitle),
    ("streetaddress", T::Street),
    ("city", T::City),
    ("postalcode", T::PostalCode),
    ("stateregion", T::Region),
    ("countryregion", T::Country),
    ("lifecyclestage", T::Stage),
    ("leadstatus", T::Ignore),
    ("contactowner", T::Owner),
];

const SALESFORCE: &[(&str, Target)] = &[
    ("salutation", T::Honorific),
    ("firstname", T::FirstName),
    ("lastname", T::LastName),
    ("title", T::JobTitle),
    ("accountname", T::Company),
    ("companyaccount", T::Company),
    ("company", T::Company),
    ("email", T::Email),
    ("phone", T::Phone),
    ("mobile", T::MobilePhone),
    ("mobilephone", T::MobilePhone),
    ("homephone", T::HomePhone),
    ("otherphone", T::Phone),
    ("mailingstreet", T::Street),
    ("mailingcity", T::City),
    ("mailingstateprovince", T::Region),
    ("mailingstate", T::Region),
    ("mailingzippostalcode", T::PostalCode),
    ("mailingpostalcode", T::PostalCode),
    ("mailingcountry", T::Country),
    ("street", T::Street),
    ("city", T::City),
    ("stateprovince", T::Region),
    ("zippostalcode", T::PostalCode),
    ("country", T::Country),
    ("description", T::Notes),
    ("birthdate", T::Birthday),
    ("leadstatus", T::Stage),
    ("status", T::Stage),
    ("contactowner", T::Owner),
    ("leadowner", T::Owner),
];

const ZOHO: &[(&str, Target)] = &[
    ("salutation", T::Honorific),
    ("firstname", T::FirstName),
    ("lastname", T::LastName),
    ("fullname", T::FullName),
    ("accountname", T::Company),
    ("company", T::Company),
    ("title", T::JobTitle),
    ("designation", T::JobTitle),
    ("email", T::Email),
    ("secondaryemail", T::Email),
    ("phone", T::Phone),
    ("otherphone", T::Phone),
    ("mobile", T::MobilePhone),
    ("homephone", T::HomePhone),
    ("mailingstreet", T::Street),
    ("mailingcity", T::City),
    ("mailingstate", T::Region),
    ("mailingzip", T::PostalCode),
    ("mailingcountry", T::Country),
    ("street", T::Street),
    ("city", T::City),
    ("state", T::Region),
    ("zipcode", T::PostalCode),
    ("country", T::Country),
    ("dateofbirth", T::Birthday),
    ("description", T::Notes),
    ("tag", T::Tags),
    ("leadstatus", T::Stage),
    ("contactowner", T::Owner),
    ("leadowner", T::Owner),
];

/// Pipedrive's headers, without the "Person - " prefix of newer exports.
const PIPEDRIVE: &[(&str, Target)] = &[
    ("name", T::FullName),
    ("firstname", T::FirstName),
    ("lastname", T::LastName),
    ("organization", T::Company),
    ("emailwork", T::Email),
    ("emailhome", T::PersonalEmail),
    ("emailother", T::Email),
    ("email", T::Email),
    ("phonework", T::Phone),
    ("phonemobile", T::MobilePhone),
    ("phonehome", T::HomePhone),
    ("phoneother", T::Phone),
    ("phone", T::Phone),
    ("label", T::Tags),
    ("labels", T::Tags),
    ("owner", T::Owner),
    ("jobtitle", T::JobTitle),
    ("notes", T::Notes),
    ("birthday", T::Birthday),
    ("postaladdress", T::Street),
    ("postaladdresscitytownvillagelocality", T::City),
    ("postaladdresszippostalcode", T::PostalCode),
    ("postaladdresscountry", T::Country),
];

const LINKEDIN: &[(&str, Target)] = &[
    ("firstname", T::FirstName),
    ("lastname", T::LastName),
    ("emailaddress", T::Email),
    ("company", T::Company),
    ("position", T::JobTitle),
];

/// Any other file: common names in English, German, French, Spanish, Italian and Polish.
const COMMON: &[(&str, Target)] = &[
    ("name", T::FullName),
    ("fullname", T::FullName),
    ("contact", T::FullName),
    ("contactname", T::FullName),
    ("salutation", T::Honorific),
    ("firstname", T::FirstName),
    ("givenname", T::FirstName),
    ("middlename", T::MiddleName),
    ("lastname", T::LastName),
    ("surname", T::LastName),
    ("familyname", T::LastName),
    ("company", T::Company),
    ("companyname", T::Company),
    ("organization", T::Company),
    ("organisation", T::Company),
    ("account", T::Company),
    ("jobtitle", T::JobTitle),
    ("title", T::JobTitle),
    ("position", T::JobTitle),
    ("role", T::JobTitle),
    ("email", T::Email),
    ("emails", T::Email),
    ("emailaddress", T::Email),
    ("mail", T::Email),
    ("phone", T::Phone),
    ("phones", T::Phone),
    ("phonenumber", T::Phone),
    ("telephone", T::Phone),
    ("workphone", T::Phone),
    ("businessphone", T::Phone),
    ("mobile", T::MobilePhone),
    ("mobilephone", T::MobilePhone),
    ("cell", T::MobilePhone),
    ("cellphone", T::MobilePhone),
    ("homephone", T::HomePhone),
    ("street", T::Street),
    ("streetaddress", T::Street),
    ("address", T::Street),
    ("city", T::City),
    ("town", T::City),
    ("postalcode", T::PostalCode),
    ("postcode", T::PostalCode),
    ("zip", T::PostalCode),
    ("zipcode", T::PostalCode),
    ("region", T::Region),
    ("state", T::Region),
    ("province", T::Region),
    ("country", T::Country),
    ("tags", T::Tags),
    ("labels", T::Tags),
    ("notes", T::Notes),
    ("note", T::Notes),
    ("comments", T::Notes),
    ("stage", T::Stage),
    ("lifecyclestage", T::Stage),
    ("status", T::Stage),
    ("birthday", T::Birthday),
    ("dateofbirth", T::Birthday),
    ("owner", T::Owner),
    // German.
    ("anrede", T::Honorific),
    ("vorname", T::FirstName),
    ("nachname", T::LastName),
    ("firma", T::Company),
    ("unternehmen", T::Company),
    ("emailadresse", T::Email),
    ("telefon", T::Phone),
    ("mobil", T::MobilePhone),
    ("handy", T::MobilePhone),
    ("straße", T::Street),
    ("strasse", T::Street),
    ("ort", T::City),
    ("stadt", T::City),
    ("plz", T::PostalCode),
    ("postleitzahl", T::PostalCode),
    ("bundesland", T::Region),
    ("land", T::Country),
    ("notizen", T::Notes),
    ("geburtstag", T::Birthday),
    ("geburtsdatum", T::Birthday),
    // French.
    ("civilité", T::Honorific),
    ("prénom", T::FirstName),
    ("nom", T::LastName),
    ("nomdefamille", T::LastName),
    ("société", T::Company),
    ("entreprise", T::Company),
    ("fonction", T::JobTitle),
    ("poste", T::JobTitle),
    ("courriel", T::Email),
    ("adressemail", T::Email),
    ("téléphone", T::Phone),
    ("portable", T::MobilePhone),
    ("adresse", T::Street),
    ("rue", T::Street),
    ("ville", T::City),
    ("codepostal", T::PostalCode),
    ("pays", T::Country),
    ("datedenaissance", T::Birthday),
    ("anniversaire", T::Birthday),
    ("étiquettes", T::Tags),
    // Spanish.
    ("nombre", T::FirstName),
    ("apellido", T::LastName),
    ("apellidos", T::LastName),
    ("empresa", T::Company),
    ("cargo", T::JobTitle),
    ("correo", T::Email),
    ("correoelectrónico", T::Email),
    ("teléfono", T::Phone),
    ("móvil", T::MobilePhone),
    ("dirección", T::Street),
    ("ciudad", T::City),
    ("códigopostal", T::PostalCode),
    ("país", T::Country),
    ("notas", T::Notes),
    ("fechadenacimiento", T::Birthday),
    // Italian.
    ("nome", T::FirstName),
    ("cognome", T::LastName),
    ("azienda", T::Company),
    ("ruolo", T::JobTitle),
    ("telefono", T::Phone),
    ("cellulare", T::MobilePhone),
    ("indirizzo", T::Street),
    ("città", T::City),
    ("cap", T::PostalCode),
    ("paese", T::Country),
    ("datadinascita", T::Birthday),
    // Polish.
    ("imię", T::FirstName),
    ("nazwisko", T::LastName),
    ("stanowisko", T::JobTitle),
    ("komórka", T::MobilePhone),
    ("ulica", T::Street),
    ("miasto", T::City),
    ("kodpocztowy", T::PostalCode),
    ("kraj", T::Country),
    ("notatki", T::Notes),
    ("dataurodzenia", T::Birthday),
];

/// Headers only one layout writes, by [`compact`] name: the layout whose signature has the
/// most of a file's headers (at least two) is recognised.
fn signature(layout: Layout) -> &'static [&'static str] {
    match layout {
        Layout::GoogleContacts => &[
            "email1value",
            "email1label",
            "email1type",
            "phone1value",
            "givenname",
            "organizationname",
            "organization1name",
            "fileas",
            "groupmembership",
            "labels",
            "phoneticfirstname",
        ],
        Layout::Outlook => &[
            "emailaddress",
            "email2address",
            "businessphone",
            "businessstreet",
            "homestreet",
            "mobilephone",
            "companymainphone",
            "managersname",
            "assistantsname",
            "givenyomi",
            "surnameyomi",
            "emaildisplayname",
            "emailtype",
            "anrede",
            "weiterevornamen",
            "straßegeschäftlich",
            "telefongeschäftlich",
            "emailadresse",
            "emailangezeigtername",
            "deuxièmeprénom",
            "ruebureau",
            "téléphonebureau",
            "adressedemessagerie",
        ],
        Layout::HubSpot => &[
            "lifecyclestage",
            "phonenumber",
            "companyname",
            "additionalemailaddresses",
            "createdate",
            "contactowner",
            "lastactivitydate",
            "stateregion",
            "countryregion",
        ],
        Layout::Salesforce => &[
            "mailingstreet",
            "mailingcity",
            "mailingstateprovince",
            "mailingzippostalcode",
            "accountname",
            "accountid",
            "mobilephone",
            "leadsource",
            "companyaccount",
            "ownerid",
            "birthdate",
        ],
        Layout::Zoho => &[
            "contactowner",
            "leadowner",
            "mailingzip",
            "secondaryemail",
            "dateofbirth",
            "skypeid",
            "emailoptout",
            "designation",
            "contactownerid",
            "accountnameid",
            "createdbyid",
        ],
        Layout::Pipedrive => &[
            "organization",
            "emailwork",
            "emailhome",
            "phonework",
            "phonemobile",
            "label",
            "owner",
            "opendeals",
            "closeddeals",
        ],
        Layout::LinkedIn => &["url", "emailaddress", "company", "position", "connectedon"],
        Layout::Other => &[],
    }
}

fn table(layout: Layout) -> &'static [(&'static str, Target)] {
    match layout {
        Layout::GoogleContacts => GOOGLE,
        Layout::Outlook => OUTLOOK,
        Layout::HubSpot => HUBSPOT,
        Layout::Salesforce => SALESFORCE,
        Layout::Zoho => ZOHO,
        Layout::Pipedrive => PIPEDRIVE,
        Layout::LinkedIn => LINKEDIN,
        Layout::Other => COMMON,
    }
}

/// A header's [`compact`] key for `layout` (Pipedrive's "Person - " prefix dropped).
fn key(layout: Layout, header: &str) -> String {
    let key = compact(header);
    match layout {
        Layout::Pipedrive => key
            .strip_prefix("person")
            .map_or(key.clone(), str::to_string),
        _ => key,
    }
}

fn target_of(layout: Layout, header: &str) -> Target {
    let header_key = key(layout, header);
    if layout == Layout::GoogleContacts {
        // "E-mail 1 - Value", "Phone 2 - Value", "Address 1 - City", …
        let lower = header.trim().to_lowercase();
        let numbered = |prefix: &str| {
            lower.strip_prefix(prefix).and_then(|rest| {
                let (number, field) = rest.split_once(" - ")?;
                number
                    .trim()
                    .parse::<u8>()
                    .ok()
                    .map(|n| (n, field.to_string()))
            })
        };
        // The current layout names a value's label "Label", the older one "Type".
        if let Some((_, field)) = numbered("e-mail ") {
            return match field.as_str() {
                "value" => Target::Email,
                "label" | "type" => Target::EmailLabel,
                _ => Target::Ignore,
            };
        }
        if let Some((_, field)) = numbered("phone ") {
            return match field.as_str() {
                "value" => Target::Phone,
                "label" | "type" => Target::PhoneLabel,
                _ => Target::Ignore,
            };
        }
        if let Some((n, field)) = numbered("address ") {
            if n != 1 {
                return Target::HomeAddress;
            }
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
    if let Some(target) = numbered_point(&header_key) {
        return target;
    }
    table(layout)
        .iter()
        .find(|(name, _)| *name == header_key)
        .map_or(Target::Ignore, |&(_, target)| target)
}

/// Numbered email and phone columns and their labels ("Email 2", "Email 2 label", "Phone 1
/// type"), as Fieldbook's own export writes them (a label column before its value).
fn numbered_point(key: &str) -> Option<Target> {
    for (prefix, value, label) in [
        ("email", Target::Email, Target::EmailLabel),
        ("phone", Target::Phone, Target::PhoneLabel),
    ] {
        let Some(rest) = key.strip_prefix(prefix) else {
            continue;
        };
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 2 {
            continue;
        }
        return match &rest[digits..] {
            "" => Some(value),
            "label" | "type" => Some(label),
            _ => None,
        };
    }
    None
}

/// Recognises the export's origin from its headers (the layout whose signature holds the
/// most of them, at least two) and maps every column.
pub fn recognise(headers: &[String]) -> (Layout, Vec<Target>) {
    let mut best = (Layout::Other, 1);
    for layout in Layout::ALL {
        let keys: Vec<String> = headers.iter().map(|h| key(layout, h)).collect();
        let score = signature(layout)
            .iter()
            .filter(|name| keys.iter().any(|k| k == *name))
            .count();
        if score > best.1 {
            best = (layout, score);
        }
    }
    let layout = best.0;
    (layout, map_columns(layout, headers))
}

/// Every column's target in `layout` (for a layout the rep chose). A target that holds
/// one value (a name part, the company…) goes to its first column only; Outlook in French
/// names both the honorific and the job title "Titre".
pub fn map_columns(layout: Layout, headers: &[String]) -> Vec<Target> {
    let mut taken = std::collections::HashSet::new();
    headers
        .iter()
        .map(|header| {
            let mut target = target_of(layout, header);
            if layout == Layout::Outlook && target == Target::Honorific && taken.contains(&target) {
                target = Target::JobTitle;
            }
            if !target.has_many() && !taken.insert(target) {
                Target::Ignore
            } else {
                target
            }
        })
        .collect()
}

/// The columns mapped to nothing that hold values, with how many non-empty values each
/// holds: the report says what of the file was not imported.
pub fn unused_columns(file: &CsvFile, targets: &[Target]) -> Vec<(String, usize)> {
    file.headers
        .iter()
        .enumerate()
        .filter(|(col, _)| targets.get(*col).is_none_or(|t| *t == Target::Ignore))
        .filter_map(|(col, header)| {
            let count = (file.rows.iter())
                .filter(|(_, row)| row.get(col).is_some_and(|v| !v.trim().is_empty()))
                .count();
            (count > 0).then(|| (header.clone(), count))
        })
        .collect()
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
    // The last line of the previous record: a gap means blank lines, which the csv crate
    // skips without a record.
    let mut previous_end = None::<u64>;
    for (line, fields) in all {
        let end = line
            + fields
                .iter()
                .map(|f| f.matches('\n').count() as u64)
                .sum::<u64>();
        if previous_end.is_some_and(|previous| line > previous + 1) {
            after_blank = true;
        }
        previous_end = Some(end);
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
    // HubSpot writes its labels ("Marketing Qualified Lead") or internal values
    // ("marketingqualifiedlead"); Zoho and Salesforce statuses have spaces and dashes.
    let compact: String = text.chars().filter(|c| c.is_alphanumeric()).collect();
    LifecycleStage::parse(&text)
        .or_else(|| LifecycleStage::parse(&compact))
        .or(match compact.as_str() {
            "subscriber" | "other" | "" | "notcontacted" | "attemptedtocontact" => {
                Some(LifecycleStage::Prospect)
            }
            "marketingqualifiedlead"
            | "salesqualifiedlead"
            | "mql"
            | "sql"
            | "opportunity"
            | "open"
            | "opennotcontacted"
            | "workingcontacted"
            | "contacted"
            | "contactinfuture"
            | "prequalified"
            | "qualified" => Some(LifecycleStage::Lead),
            "evangelist" => Some(LifecycleStage::Advocate),
            "closedconverted" | "won" => Some(LifecycleStage::Customer),
            _ => None,
        })
}

/// A birthday cell: `Some(Ok(birthday))` (with or without a year: Google's `--06-15`),
/// `Some(Err(()))` if it is not a date, `None` if it means "no birthday" (empty, or classic
/// Outlook's `0/0/00` and `0.0.00`).
fn birthday_from(text: &str, day_first: bool) -> Option<Result<Birthday, ()>> {
    let text = text.trim();
    if text
        .chars()
        .all(|c| matches!(c, '0' | '/' | '.' | '-' | ' '))
    {
        return None;
    }
    if let Some(birthday) = Birthday::parse(text) {
        return Some(Ok(birthday));
    }
    let date = CalendarDate::parse(text).or_else(|| {
        // "12/31/1980" (US, Salesforce, Outlook) or "31.12.1980" (German); a date and a
        // time ("12/31/1980 0:00").
        let text = text.split_whitespace().next().unwrap_or(text);
        let parts: Vec<&str> = text.split(['/', '.']).collect();
        let [a, b, year] = parts[..] else { return None };
        let (month, day) = if text.contains('/') && !day_first {
            (a, b)
        } else {
            (b, a)
        };
        let year = match year.len() {
            4 => year.to_string(),
            _ => return None,
        };
        CalendarDate::parse(&format!("{year}-{month:0>2}-{day:0>2}"))
    });
    Some(date.map(Birthday::from).ok_or(()))
}

/// A row as a customer, with what could not be used of it.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedRow {
    /// The customer.
    pub customer: Customer,
    /// Values of the row that had no valid place, each with why; they are kept in the
    /// customer's notes so nothing of the file is lost.
    pub warnings: Vec<String>,
}

/// A label as an export writes it: Google marks the primary value `* Work`; labels are
/// kept in lower case like the app's own ("work", "mobile").
fn label_from(value: &str) -> String {
    value.trim().trim_start_matches('*').trim().to_lowercase()
}

/// A value with its label in parentheses at the end ("zoe@x.example (personal)",
/// "+1 (202) 555-0100 (work ext. 204)"): a label has a letter, a phone's area code has not.
fn labelled(value: &str) -> Option<(&str, &str)> {
    let inner = value.strip_suffix(')')?;
    let open = inner.rfind(" (")?;
    let label = &inner[open + 2..];
    (label.chars().any(char::is_alphabetic) && !label.contains(['(', ')']))
        .then(|| (inner[..open].trim(), label.trim()))
}

/// A phone number and its extension ("+1 202 555 0100 ext. 204", "… x204", "… #204").
fn split_extension(value: &str) -> (&str, Option<&str>) {
    let lower = value.to_ascii_lowercase();
    for marker in [" ext.", " ext", " x", "#", ",", ";"] {
        if let Some(at) = lower.rfind(marker) {
            let extension = value[at + marker.len()..]
                .trim()
                .trim_start_matches(['.', ':']);
            let extension = extension.trim();
            if !extension.is_empty() && extension.chars().all(|c| c.is_ascii_digit()) {
                return (value[..at].trim(), Some(extension));
            }
        }
    }
    (value, None)
}

/// The rep's choices for a file's stage values (HubSpot's lifecycle stages, Salesforce's
/// lead statuses…), by value in lower case: a stage, or `None` to keep the value in the
/// notes. A value not in the map gets the stage [`stage_values`] proposes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StageMap(pub BTreeMap<String, Option<LifecycleStage>>);

impl StageMap {
    /// The stage a value becomes: the rep's choice, or the one recognised.
    pub fn stage_of(&self, value: &str) -> Option<LifecycleStage> {
        match self.0.get(&stage_key(value)) {
            Some(chosen) => *chosen,
            None => stage_from(value),
        }
    }

    /// Sets the stage of a value (`None`: keep it in the notes).
    pub fn set(&mut self, value: &str, stage: Option<LifecycleStage>) {
        self.0.insert(stage_key(value), stage);
    }
}

fn stage_key(value: &str) -> String {
    value.trim().to_lowercase()
}

/// How a file's values are read, beyond the column mapping: the rep's stage choices and the
/// order of day and month in its dates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportChoices {
    /// The rep's changes to the stage each stage value becomes.
    pub stages: StageMap,
    /// Whether `05/03/1982` is 5 March (most of the world, and what French, German,
    /// Spanish, Italian or Polish headers say) rather than May 3 (the US).
    pub day_first: bool,
    /// Columns (by position) imported into custom fields: the field's id and definition.
    /// Such a column's target is [`Target::Ignore`].
    pub custom: BTreeMap<usize, (String, FieldDefinition)>,
}

impl ImportChoices {
    /// The choices for a file as found: dates day-first when a date column holds a first
    /// part over 12 (`25/12/1980`), or, with no day over 12 in second place either, when
    /// the headers are in a language that writes the day first.
    pub fn for_file(file: &CsvFile, targets: &[Target]) -> ImportChoices {
        let columns: Vec<usize> = (targets.iter().enumerate())
            .filter(|(_, t)| **t == Target::Birthday)
            .map(|(col, _)| col)
            .collect();
        let (mut first_over_12, mut second_over_12) = (false, false);
        for (_, row) in &file.rows {
            for value in columns.iter().filter_map(|col| row.get(*col)) {
                let value = value.split_whitespace().next().unwrap_or("");
                let mut parts = value.split('/').map(|p| p.parse::<u32>().unwrap_or(0));
                if let (Some(a), Some(b), Some(_)) = (parts.next(), parts.next(), parts.next()) {
                    first_over_12 |= a > 12;
                    second_over_12 |= b > 12;
                }
            }
        }
        let day_first_language = file.headers.iter().any(|header| {
            let key = compact(header);
            DAY_FIRST_HEADERS.contains(&key.as_str())
        });
        ImportChoices {
            stages: StageMap::default(),
            day_first: first_over_12 || (!second_over_12 && day_first_language),
            custom: BTreeMap::new(),
        }
    }
}

/// First-name headers of languages whose dates put the day first.
const DAY_FIRST_HEADERS: &[&str] = &[
    "prénom", "vorname", "nombre", "nome", "imię", "voornaam", "förnamn", "fornavn",
];

/// One value of a file's stage column(s): as first written, in how many rows, and the
/// stage it becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageValue {
    /// The value, as the file first writes it.
    pub value: String,
    /// Rows holding it.
    pub rows: usize,
    /// The stage it becomes (`None`: kept in the notes with a warning).
    pub stage: Option<LifecycleStage>,
}

/// Every distinct value of the columns mapped to the stage, most frequent first, with the
/// stage each becomes under `stages`: the mapping table the rep checks and can change.
pub fn stage_values(file: &CsvFile, targets: &[Target], stages: &StageMap) -> Vec<StageValue> {
    let columns: Vec<usize> = (targets.iter().enumerate())
        .filter(|(_, t)| **t == Target::Stage)
        .map(|(col, _)| col)
        .collect();
    let mut found: Vec<StageValue> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (_, row) in &file.rows {
        for value in columns.iter().filter_map(|col| row.get(*col)) {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            let at = *index.entry(stage_key(value)).or_insert_with(|| {
                found.push(StageValue {
                    value: value.to_string(),
                    rows: 0,
                    stage: stages.stage_of(value),
                });
                found.len() - 1
            });
            found[at].rows += 1;
        }
    }
    crate::order::sort_by(&mut found, |a, b| {
        b.rows.cmp(&a.rows).then_with(|| a.value.cmp(&b.value))
    });
    found
}

/// The customer of one row, or why the row cannot be imported (only when nothing in it
/// names a person or a company). A value that has no valid place (an unreadable date, a
/// malformed email, an unknown stage, text past a field's length) does not cost the row:
/// it is kept in the notes and listed as a warning. `ids` makes the record ids
/// (customer, emails, phones). Stage values become the stages [`stage_values`] proposes;
/// [`row_to_customer_with`] takes the rep's changes to them.
pub fn row_to_customer(
    row: &[String],
    targets: &[Target],
    ids: &mut impl FnMut() -> String,
    now: Timestamp,
) -> Result<ImportedRow, String> {
    row_to_customer_with(row, targets, &ImportChoices::default(), ids, now)
}

/// [`row_to_customer`] with the file's [`ImportChoices`] (stages, date order).
pub fn row_to_customer_with(
    row: &[String],
    targets: &[Target],
    choices: &ImportChoices,
    ids: &mut impl FnMut() -> String,
    now: Timestamp,
) -> Result<ImportedRow, String> {
    let id: CustomerId = ids().parse().map_err(|_| "cannot make an id".to_string())?;
    let mut customer = Customer::new(id, now);
    let (mut first, mut middle, mut last) = (String::new(), String::new(), String::new());
    let (mut honorific, mut suffix) = (String::new(), String::new());
    let mut address = Address::default();
    let mut notes = Vec::new();
    let mut home_address: Vec<String> = Vec::new();
    // A label column's value, for the email or phone column after it.
    let (mut email_label, mut phone_label) = (None::<String>, None::<String>);
    // (column's label, raw value, why) of values that found no place.
    let mut unused: Vec<(String, String, String)> = Vec::new();
    for (value, target) in row.iter().zip(targets) {
        let value = value.trim();
        // A label belongs to the one value column after it, even an empty one.
        let given_label = match target {
            Target::Email => email_label.take(),
            Target::Phone => phone_label.take(),
            _ => None,
        };
        if value.is_empty() {
            continue;
        }
        match target {
            Target::Ignore => {}
            Target::FullName => customer.name = value.to_string(),
            Target::Honorific => honorific = value.to_string(),
            Target::FirstName => first = value.to_string(),
            Target::MiddleName => middle = value.to_string(),
            Target::LastName => last = value.to_string(),
            Target::Suffix => suffix = value.to_string(),
            Target::Company => customer.company = value.to_string(),
            Target::JobTitle => customer.job_title = value.to_string(),
            Target::Owner => customer.owner = value.to_string(),
            Target::HomeAddress => home_address.push(value.to_string()),
            Target::EmailLabel => email_label = Some(label_from(value)),
            Target::PhoneLabel => phone_label = Some(label_from(value)),
            Target::Email
            | Target::PersonalEmail
            | Target::Phone
            | Target::MobilePhone
            | Target::HomePhone => {
                // Several values in one cell: Google's " ::: ", HubSpot's ";".
                for part in value
                    .split(":::")
                    .flat_map(|p| p.split(';'))
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                {
                    let given = given_label.as_deref().filter(|l| !l.is_empty());
                    let label = given.unwrap_or(match target {
                        Target::PersonalEmail => "personal",
                        Target::MobilePhone => "mobile",
                        Target::HomePhone => "home",
                        _ => "work",
                    });
                    // Fieldbook's own export: "value (label)".
                    let (part, label) = labelled(part).unwrap_or((part, label));
                    if matches!(target, Target::Email | Target::PersonalEmail) {
                        customer.emails.push(ContactPoint {
                            id: ContactPointId(ids()),
                            label: label.into(),
                            value: part.to_string(),
                        });
                    } else {
                        let (number, extension) = split_extension(part);
                        customer.phones.push(ContactPoint {
                            id: ContactPointId(ids()),
                            label: extension.map_or(label.into(), |e| format!("{label} ext. {e}")),
                            value: number.to_string(),
                        });
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
                    // Google's system group is every contact, not a label.
                    let system = compact(tag.trim_start_matches("System Group:")) == "mycontacts";
                    if !tag.is_empty() && !system {
                        customer.tags.insert(tag);
                    }
                }
            }
            Target::Notes => notes.push(value.to_string()),
            Target::Stage => match choices.stages.stage_of(value) {
                Some(stage) => customer.stage = stage,
                None => unused.push((
                    target.label().into(),
                    value.into(),
                    if choices.stages.0.contains_key(&stage_key(value)) {
                        "left out by the stage mapping".into()
                    } else {
                        "not a lifecycle stage Fieldbook knows".into()
                    },
                )),
            },
            Target::Birthday => match birthday_from(value, choices.day_first) {
                Some(Ok(date)) => customer.birthday = Some(date),
                Some(Err(())) => {
                    unused.push((target.label().into(), value.into(), "not a date".into()))
                }
                None => {}
            },
        }
    }
    if customer.name.is_empty() {
        customer.name = [honorific, first, middle, last, suffix]
            .iter()
            .filter(|part| !part.is_empty())
            .cloned()
            .collect::<Vec<_>>()
            .join(" ");
    } else {
        // A full-name column (Zoho's "Full Name") without the salutation or suffix that
        // have columns of their own: the name carries them like any other layout's.
        let has = |name: &str, part: &str| name.split_whitespace().any(|word| word == part);
        if !honorific.is_empty() && !has(&customer.name, &honorific) {
            customer.name = format!("{honorific} {}", customer.name);
        }
        if !suffix.is_empty() && !has(&customer.name, &suffix) {
            customer.name = format!("{} {suffix}", customer.name);
        }
    }
    customer.address = address;
    if !home_address.is_empty() {
        notes.push(format!("Home address: {}", home_address.join(", ")));
    }
    for (col, (id, field)) in &choices.custom {
        let Some(value) = row.get(*col).map(|v| v.trim()).filter(|v| !v.is_empty()) else {
            continue;
        };
        match custom_value(field, value) {
            Ok(CustomValue::One(stored)) => {
                customer.custom.insert(id.clone(), stored);
            }
            Ok(CustomValue::Set(chosen)) => {
                customer
                    .custom_sets
                    .insert(id.clone(), chosen.iter().map(String::as_str).collect());
            }
            Err(why) => unused.push((field.name.clone(), value.to_string(), why)),
        }
    }
    settle(customer, notes, unused)
}

/// A custom field's value read from a file.
pub(crate) enum CustomValue {
    One(String),
    Set(Vec<String>),
}

/// `value` (as a file writes it) in the canonical form of `field`: a choice by its label,
/// several choices separated by `;` or `,` (each must be one of the field's).
pub(crate) fn custom_value(field: &FieldDefinition, value: &str) -> Result<CustomValue, String> {
    if field.kind != FieldKind::Choices {
        return match parse_value(field, value) {
            Ok(Some(stored)) => Ok(CustomValue::One(stored)),
            Ok(None) => Err("empty".into()),
            Err(why) => Err(why),
        };
    }
    let mut chosen = Vec::new();
    for label in value
        .split([';', ','])
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        match field.choice_by_label(label) {
            Some(choice) => chosen.push(choice.to_string()),
            None => return Err(format!("“{label}” is not one of the choices")),
        }
    }
    Ok(CustomValue::Set(chosen))
}

/// The values of column `col` of `file`, for guessing a new field's kind.
fn column_values(file: &CsvFile, col: usize) -> impl Iterator<Item = &str> + Clone {
    (file.rows.iter()).filter_map(move |(_, row)| row.get(col).map(String::as_str))
}

/// A new custom field for column `col` of `file`, named after its header, of the kind its
/// values suggest ([`guess_kind`]); a choice field offers every distinct value (first
/// spelling, most frequent first), with ids `c1`, `c2`… (ids are per field, and only
/// this device makes this new field).
pub fn field_from_column(
    file: &CsvFile,
    col: usize,
    position: i64,
    now: Timestamp,
) -> FieldDefinition {
    let name = file.headers.get(col).map_or("Imported", |h| h.trim());
    field_from_values(name, column_values(file, col), position, now)
}

/// A new custom field named `name` for `values` (a column's, a vCard property's), of the
/// kind they suggest; see [`field_from_column`].
pub fn field_from_values<'a>(
    name: &str,
    values: impl Iterator<Item = &'a str> + Clone,
    position: i64,
    now: Timestamp,
) -> FieldDefinition {
    let kind = guess_kind(values.clone());
    let mut field = FieldDefinition::new(name, kind, position, now);
    if kind.has_choices() {
        let mut counts: Vec<(String, usize)> = Vec::new();
        for value in values.map(str::trim).filter(|v| !v.is_empty()) {
            match counts
                .iter_mut()
                .find(|(seen, _)| seen.eq_ignore_ascii_case(value))
            {
                Some((_, n)) => *n += 1,
                None => counts.push((value.to_string(), 1)),
            }
        }
        crate::order::sort_by(&mut counts, |a, b| {
            b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0))
        });
        for (at, (label, _)) in counts.into_iter().enumerate() {
            field.choices.insert(
                format!("c{}", at + 1),
                FieldChoice {
                    label,
                    position: at as i64 + 1,
                    archived: false,
                },
            );
        }
    }
    field
}

/// A name's words, lower case, without punctuation: a column "Signed NDA?" or a card's
/// `X-SIGNED-NDA` ("Signed nda") finds the field "Signed NDA?".
fn name_words(name: &str) -> Vec<String> {
    name.split(|ch: char| !ch.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Columns left unmapped whose header names one of the book's active fields (as
/// Fieldbook's own exports write them, CSV columns and vCard properties alike; compared
/// word by word, ignoring case and punctuation): column → field id.
pub fn custom_columns(
    headers: &[String],
    targets: &[Target],
    fields: &BTreeMap<String, FieldDefinition>,
) -> BTreeMap<usize, String> {
    let mut found = BTreeMap::new();
    for (col, header) in headers.iter().enumerate() {
        if targets.get(col).is_some_and(|t| *t != Target::Ignore) {
            continue;
        }
        let words = name_words(header);
        let field = (fields.iter())
            .filter(|(_, field)| !field.archived)
            .find(|(_, field)| !words.is_empty() && name_words(&field.name) == words);
        if let Some((id, _)) = field {
            found.insert(col, id.clone());
        }
    }
    found
}

/// An imported contact made valid (CSV rows and vCards alike): values the rules refuse
/// move to the notes with a warning, one by one, until the rest is valid; a contact known
/// only by an email or a phone is named after it; `unused` (label, raw value, why) are
/// values that found no place, kept in the notes too; `notes` are the notes gathered. Only
/// a contact with nothing to identify a person or a company is refused.
pub(crate) fn settle(
    mut customer: Customer,
    mut notes: Vec<String>,
    mut unused: Vec<(String, String, String)>,
) -> Result<ImportedRow, String> {
    // Values the rules refuse move to the notes, one by one, until the rest is valid; a
    // row without a name or a company is the only one refused.
    if let Err(invalid) = validation::validate(&customer) {
        for error in invalid.0 {
            let (label, raw) = take_invalid(&mut customer, &error.field);
            if let Some(raw) = raw {
                unused.push((label, raw, error.message));
            }
        }
    }
    let mut warnings = Vec::new();
    // A contact known only by an email or a phone (a newsletter subscriber in HubSpot, a
    // number in a phone book) is still someone: it is named after it, and the rep told.
    if customer.name.trim().is_empty() && customer.company.trim().is_empty() {
        let known_by = (customer.emails.first())
            .map(|email| ("email", email.value.clone()))
            .or_else(|| {
                customer
                    .phones
                    .first()
                    .map(|phone| ("phone", phone.value.clone()))
            });
        if let Some((what, value)) = known_by {
            warnings.push(format!("no name or company: named after its {what}"));
            customer.name = value;
        }
    }
    if !unused.is_empty() {
        let mut kept = String::from("From the import, values without a place:");
        for (label, raw, why) in &unused {
            kept.push_str(&format!("\n{label}: {raw}"));
            warnings.push(format!(
                "{label} \"{}\": {why}; kept in the notes",
                short(raw)
            ));
        }
        notes.push(kept);
    }
    if !notes.is_empty() {
        customer.set_notes(notes.join("\n\n"));
    }
    if let Err(invalid) = validation::validate(&customer) {
        let fatal: Vec<String> = invalid.0.into_iter().map(|e| e.message).collect();
        return Err(fatal.join("; "));
    }
    Ok(ImportedRow { customer, warnings })
}

/// The first 60 characters of a value, for a message.
fn short(value: &str) -> String {
    if value.chars().count() > 60 {
        format!("{}…", value.chars().take(60).collect::<String>())
    } else {
        value.to_string()
    }
}

/// Removes the invalid value of `field` from `customer` (cutting a text that is too long)
/// and returns the field's label and the raw value, if there was one to keep.
fn take_invalid(customer: &mut Customer, field: &str) -> (String, Option<String>) {
    use validation::{MAX_NOTES, MAX_SHORT_TEXT};
    let cut = |text: &mut String, max: usize| -> Option<String> {
        (text.chars().count() > max).then(|| {
            let raw = text.clone();
            *text = text.chars().take(max).collect();
            raw
        })
    };
    if let Some(id) = field.strip_prefix("emails.") {
        let at = customer.emails.iter().position(|e| e.id.0 == id);
        return (
            "Email".into(),
            at.map(|at| customer.emails.remove(at).value),
        );
    }
    if let Some(id) = field.strip_prefix("phones.") {
        let at = customer.phones.iter().position(|p| p.id.0 == id);
        return (
            "Phone".into(),
            at.map(|at| customer.phones.remove(at).value),
        );
    }
    match field {
        "emails" => (
            "Email".into(),
            customer
                .emails
                .drain(20..)
                .map(|e| e.value)
                .reduce(|a, b| a + ", " + &b),
        ),
        "phones" => (
            "Phone".into(),
            customer
                .phones
                .drain(20..)
                .map(|p| p.value)
                .reduce(|a, b| a + ", " + &b),
        ),
        "name" => ("Name".into(), cut(&mut customer.name, MAX_SHORT_TEXT)),
        "company" => ("Company".into(), cut(&mut customer.company, MAX_SHORT_TEXT)),
        "job_title" => (
            "Job title".into(),
            cut(&mut customer.job_title, MAX_SHORT_TEXT),
        ),
        "address.street" => (
            "Street".into(),
            cut(&mut customer.address.street, MAX_SHORT_TEXT),
        ),
        "address.city" => (
            "City".into(),
            cut(&mut customer.address.city, MAX_SHORT_TEXT),
        ),
        "address.postal_code" => (
            "Postal code".into(),
            cut(&mut customer.address.postal_code, MAX_SHORT_TEXT),
        ),
        "address.region" => (
            "Region".into(),
            cut(&mut customer.address.region, MAX_SHORT_TEXT),
        ),
        "address.country" => (
            "Country".into(),
            cut(&mut customer.address.country, MAX_SHORT_TEXT),
        ),
        "tags" => {
            let bad: Vec<String> = customer
                .tags
                .iter()
                .filter(|t| t.trim().is_empty() || t.chars().count() > validation::MAX_TAG)
                .map(str::to_string)
                .collect();
            for tag in &bad {
                customer.tags.remove(tag);
            }
            ("Tags".into(), (!bad.is_empty()).then(|| bad.join(", ")))
        }
        "notes" => {
            let mut text = customer.notes.as_str().to_string();
            let raw = cut(&mut text, MAX_NOTES - 200);
            customer.set_notes(text);
            (
                "Notes".into(),
                raw.map(|_| "(the rest of a long note)".to_string()),
            )
        }
        _ => (field.to_string(), None),
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
    fn stage_values_are_listed_with_their_stage_and_the_rep_can_change_them() {
        let file = parse_csv("Email,Lifecycle Stage\na@x.example,Marketing Qualified Lead\nb@x.example,marketing qualified lead\nc@x.example,Customer\nd@x.example,Partner\ne@x.example,\n").unwrap();
        let (_, targets) = recognise(&file.headers);
        assert_eq!(targets[1], Target::Stage);
        let mut stages = StageMap::default();
        let table = |stages: &StageMap| -> Vec<(String, usize, Option<LifecycleStage>)> {
            stage_values(&file, &targets, stages)
                .into_iter()
                .map(|v| (v.value, v.rows, v.stage))
                .collect()
        };
        assert_eq!(
            table(&stages),
            [
                (
                    "Marketing Qualified Lead".to_string(),
                    2,
                    Some(LifecycleStage::Lead)
                ),
                ("Customer".to_string(), 1, Some(LifecycleStage::Customer)),
                ("Partner".to_string(), 1, None),
            ]
        );
        // The rep makes MQLs prospects and partners advocates.
        stages.set("Marketing Qualified Lead", Some(LifecycleStage::Prospect));
        stages.set("partner", Some(LifecycleStage::Advocate));
        let stage_of_row = |n: usize, stages: &StageMap| {
            let choices = ImportChoices {
                stages: stages.clone(),
                ..ImportChoices::default()
            };
            let row = row_to_customer_with(
                &file.rows[n].1,
                &targets,
                &choices,
                &mut ids(),
                Timestamp(0),
            )
            .unwrap();
            (row.customer.stage, row.warnings)
        };
        let named = "no name or company: named after its email".to_string();
        assert_eq!(
            stage_of_row(1, &stages),
            (LifecycleStage::Prospect, vec![named.clone()])
        );
        assert_eq!(
            stage_of_row(3, &stages),
            (LifecycleStage::Advocate, vec![named.clone()])
        );
        // Or keeps a value out: it goes to the notes with a warning.
        stages.set("Customer", None);
        let (stage, warnings) = stage_of_row(2, &stages);
        assert_eq!(
            stage,
            Customer::new("x".parse().unwrap(), Timestamp(0)).stage
        );
        assert_eq!(
            warnings,
            [
                named,
                "Lifecycle stage \"Customer\": left out by the stage mapping; kept in the notes"
                    .to_string()
            ]
        );
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
                Target::EmailLabel,
                Target::Email,
                Target::PhoneLabel,
                Target::Phone,
                Target::City,
                Target::Country,
            ]
        );
        // Each label goes to the value column after it, and only to that one (the older
        // layout's "Type"; "* " marks the primary value).
        let file = parse_csv("Given Name,E-mail 1 - Type,E-mail 1 - Value,E-mail 2 - Type,E-mail 2 - Value,Phone 1 - Type,Phone 1 - Value,Phone 2 - Type,Phone 2 - Value\nAda,* Home,ada@home.example,,ada@work.example,Mobile,+44 7700 900123,Custom Label,\n").unwrap();
        let (layout, targets) = recognise(&file.headers);
        assert_eq!(layout, Layout::GoogleContacts);
        let ada = row_to_customer(&file.rows[0].1, &targets, &mut ids(), Timestamp(0))
            .unwrap()
            .customer;
        let points = |points: &[ContactPoint]| -> Vec<(String, String)> {
            points
                .iter()
                .map(|p| (p.label.clone(), p.value.clone()))
                .collect()
        };
        assert_eq!(
            points(&ada.emails),
            [
                ("home".to_string(), "ada@home.example".to_string()),
                ("work".to_string(), "ada@work.example".to_string())
            ]
        );
        assert_eq!(
            points(&ada.phones),
            [("mobile".to_string(), "+44 7700 900123".to_string())]
        );
        let file = parse_csv("First Name,Last Name,Labels,E-mail 1 - Value\nZoë,Dupont,* myContacts ::: VIP,zoe@a.example ::: zoe@b.example\n").unwrap();
        let (_, targets) = recognise(&file.headers);
        let zoe = row_to_customer(&file.rows[0].1, &targets, &mut ids(), Timestamp(0))
            .unwrap()
            .customer;
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
        let ada = row_to_customer(&row, &targets, &mut ids(), Timestamp(0))
            .unwrap()
            .customer;
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
                Target::MobilePhone,
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
        let jean = row_to_customer(&row, &targets, &mut ids(), Timestamp(0))
            .unwrap()
            .customer;
        assert_eq!(jean.phones.len(), 2);
        assert_eq!(jean.birthday, crate::Birthday::parse("1980-12-31"));
        assert_eq!(jean.notes.as_str(), "Met at the fair");
    }

    #[test]
    fn one_bad_optional_value_keeps_the_row_with_a_warning_and_the_value_in_the_notes() {
        let file = parse_csv("Name;Email;Phone;Birthday;Stage\nGood One;good@x.example;;;\n;;;;\nNo Mail;not-an-email;;;\n;nobody@x.example;;;\n;;;1980-01-01;lead\nBad Phone;;12ab;;\nBad Date;;;yesterday;\nNo Year;;;--06-15;\nOutlook Empty;;;0/0/00;\nExtension;;+1 202 555 0100 ext. 204;;Marketing Qualified Lead\nOdd Stage;;;;unicorn\n\"Quoted, Name\";q@x.example;;;\n").unwrap();
        assert_eq!(
            file.headers,
            ["Name", "Email", "Phone", "Birthday", "Stage"]
        );
        let (layout, targets) = recognise(&file.headers);
        assert_eq!(layout, Layout::Other);
        let results: Vec<String> = file
            .rows
            .iter()
            .map(
                |(line, row)| match row_to_customer(row, &targets, &mut ids(), Timestamp(0)) {
                    Ok(row) => format!(
                        "{line}: ok {}{}",
                        row.customer.name,
                        row.warnings
                            .iter()
                            .map(|w| format!(" / {w}"))
                            .collect::<String>()
                    ),
                    Err(e) => format!("{line}: {e}"),
                },
            )
            .collect();
        assert_eq!(
            results,
            [
                "2: ok Good One",
                "4: ok No Mail / Email \"not-an-email\": \"not-an-email\" is not an email address (expected name@example.com); kept in the notes",
                "5: ok nobody@x.example / no name or company: named after its email",
                "6: enter a name or a company",
                "7: ok Bad Phone / Phone \"12ab\": \"12ab\" is not a phone number (use digits, spaces, and an optional leading +); kept in the notes",
                "8: ok Bad Date / Birthday \"yesterday\": not a date; kept in the notes",
                "9: ok No Year",
                "10: ok Outlook Empty",
                "11: ok Extension",
                "12: ok Odd Stage / Lifecycle stage \"unicorn\": not a lifecycle stage Fieldbook knows; kept in the notes",
                "13: ok Quoted, Name",
            ]
        );
        let row = |n: usize| {
            row_to_customer(&file.rows[n].1, &targets, &mut ids(), Timestamp(0))
                .unwrap()
                .customer
        };
        assert_eq!(
            row(1).notes.as_str(),
            "From the import, values without a place:\nEmail: not-an-email"
        );
        assert!(row(1).emails.is_empty());
        let extension = row(8);
        assert_eq!(extension.phones[0].value, "+1 202 555 0100");
        assert_eq!(extension.phones[0].label, "work ext. 204");
        assert_eq!(extension.stage, LifecycleStage::Lead);
        assert_eq!(row(6).birthday.unwrap().to_string(), "--06-15");
        assert_eq!(row(7).birthday, None);
        let known_by_email = row(2);
        assert_eq!(known_by_email.name, "nobody@x.example");
        assert_eq!(known_by_email.emails[0].value, "nobody@x.example");
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
    fn columns_not_imported_are_counted() {
        let file = parse_csv(
            "Name,Department,Fax,Email\nAda,R&D,,ada@x.example\nBob,Sales,+1 555,\nCleo,,,\n",
        )
        .unwrap();
        let (_, targets) = recognise(&file.headers);
        assert_eq!(
            unused_columns(&file, &targets),
            [("Department".to_string(), 2), ("Fax".to_string(), 1)]
        );
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
            let customer = row_to_customer(row, &targets, &mut next, Timestamp(0))
                .unwrap()
                .customer;
            found.push(index.find(&customer).map(|id| id.to_string()));
            index.add(&customer);
        }
        assert_eq!(
            found,
            [Some("c1".to_string()), None, Some("id-3".to_string()), None]
        );
    }
}
