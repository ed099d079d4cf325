//! CSV export of customers (a segment or the whole book) with every field a customer has,
//! in a layout the import recognises back (see [`crate::formats::import`]): export, then
//! import, gives the same customer. UTF-8 with a byte order mark, so Excel reads accents.

use std::collections::BTreeMap;

use crate::model::custom_fields::{value_words, FieldDefinition};
use crate::{Customer, CustomerSummary};

/// The columns before the emails.
const BEFORE_POINTS: [&str; 3] = ["Name", "Company", "Job title"];

/// The columns after the phones.
const AFTER_POINTS: [&str; 14] = [
    "Street",
    "City",
    "Postal code",
    "Region",
    "Country",
    "Stage",
    "Tags",
    "Owner",
    "Birthday",
    "Notes",
    "Lifetime value",
    "Currency",
    "Last contact",
    "Fieldbook ID",
];

/// The header row for customers with at most `emails` emails and `phones` phones: each one
/// its own pair of columns, the label before the value ("Email 1 label", "Email 1"), as
/// Google's export and the import have it — one value per cell, for a spreadsheet to sort
/// and filter.
pub fn headers(emails: usize, phones: usize) -> Vec<String> {
    let mut headers: Vec<String> = BEFORE_POINTS.iter().map(|h| h.to_string()).collect();
    for (kind, n) in [("Email", emails.max(1)), ("Phone", phones.max(1))] {
        for i in 1..=n {
            headers.push(format!("{kind} {i} label"));
            headers.push(format!("{kind} {i}"));
        }
    }
    headers.extend(AFTER_POINTS.iter().map(|h| h.to_string()));
    headers
}

/// A money amount as a plain number a spreadsheet reads as one ("1234.50", "-3.05").
fn amount(cents: i64) -> String {
    format!(
        "{}{}.{:02}",
        if cents < 0 { "-" } else { "" },
        (cents / 100).unsigned_abs(),
        (cents % 100).unsigned_abs()
    )
}

/// The customers as CSV text (RFC 4180 quoting), starting with a byte order mark.
pub fn to_csv<'a>(customers: impl IntoIterator<Item = &'a Customer>) -> String {
    to_csv_with_fields(customers, &BTreeMap::new())
}

/// [`to_csv`] with one column per custom field of `fields` (not archived, in their
/// order), headed by the field's name, holding the value as the rep reads it (a choice's
/// label, several joined by `;`), which the import reads back
/// ([`crate::formats::import::custom_columns`]).
pub fn to_csv_with_fields<'a>(
    customers: impl IntoIterator<Item = &'a Customer>,
    fields: &BTreeMap<String, FieldDefinition>,
) -> String {
    let mut columns: Vec<(&String, &FieldDefinition)> =
        fields.iter().filter(|(_, field)| !field.archived).collect();
    crate::order::sort_by(&mut columns, |a, b| {
        (a.1.position, &a.1.name, a.0).cmp(&(b.1.position, &b.1.name, b.0))
    });
    let customers: Vec<&Customer> = customers.into_iter().collect();
    let emails = customers.iter().map(|c| c.emails.len()).max().unwrap_or(0);
    let phones = customers.iter().map(|c| c.phones.len()).max().unwrap_or(0);
    let mut writer = csv::Writer::from_writer(Vec::new());
    // Writing to a Vec cannot fail.
    let mut header = headers(emails, phones);
    header.extend(columns.iter().map(|(_, field)| field.name.clone()));
    let _ = writer.write_record(header);
    for c in customers {
        let summary = CustomerSummary::of(c);
        let last_contact = summary
            .last_contact
            .map(|at| {
                let (year, month, day) = at.civil_date();
                format!("{year:04}-{month:02}-{day:02}")
            })
            .unwrap_or_default();
        let mut record: Vec<String> = vec![c.name.clone(), c.company.clone(), c.job_title.clone()];
        for (points, n) in [(&c.emails, emails.max(1)), (&c.phones, phones.max(1))] {
            for i in 0..n {
                let point = points.get(i);
                record.push(point.map(|p| p.label.clone()).unwrap_or_default());
                record.push(point.map(|p| p.value.clone()).unwrap_or_default());
            }
        }
        let tags: Vec<&str> = c.tags.iter().collect();
        record.extend([
            c.address.street.clone(),
            c.address.city.clone(),
            c.address.postal_code.clone(),
            c.address.region.clone(),
            c.address.country.clone(),
            c.stage.as_str().to_string(),
            tags.join(";"),
            c.owner.clone(),
            c.birthday.map(|d| d.to_string()).unwrap_or_default(),
            c.notes.as_str().to_string(),
            if summary.purchases > 0 {
                amount(summary.lifetime_value_cents)
            } else {
                String::new()
            },
            summary.lifetime_value_currency.clone(),
            last_contact,
            c.id.to_string(),
        ]);
        for (id, field) in &columns {
            record.push(value_words(c, id, field));
        }
        let _ = writer.write_record(&record);
    }
    let bytes = writer.into_inner().unwrap_or_default();
    format!("\u{feff}{}", String::from_utf8(bytes).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        formats::import::{parse_csv, recognise, row_to_customer},
        model::customer::ContactPointId,
        ContactPoint, LifecycleStage, Timestamp,
    };

    #[test]
    fn an_export_imports_back_into_the_same_customer() {
        let mut customer = Customer::new("c1".parse().unwrap(), Timestamp(0));
        customer.name = "Zoë \"Zed\" Dupont".into();
        customer.company = "Fromagerie, Lyon".into();
        customer.job_title = "Buyer".into();
        for (label, value) in [
            ("work", "zoe@fromagerie.example"),
            ("personal", "zoe@home.example"),
        ] {
            customer.emails.push(ContactPoint {
                id: ContactPointId(format!("e-{label}")),
                label: label.into(),
                value: value.into(),
            });
        }
        for (label, value) in [
            ("mobile", "+33 6 12 34 56 78"),
            ("work ext. 204", "+1 (202) 555-0100"),
        ] {
            customer.phones.push(ContactPoint {
                id: ContactPointId(format!("p-{label}")),
                label: label.into(),
                value: value.into(),
            });
        }
        customer.address.street = "12 rue de la Paix".into();
        customer.address.city = "Lyon".into();
        customer.address.postal_code = "69002".into();
        customer.address.region = "Auvergne-Rhône-Alpes".into();
        customer.address.country = "France".into();
        customer.stage = LifecycleStage::Customer;
        customer.tags.insert("vip");
        customer.tags.insert("salon-2026");
        customer.owner = "Marc".into();
        customer.birthday = crate::Birthday::parse("1984-02-29");
        customer.set_notes("Prefers mornings.\nTwo shops; \"Lyon\", Annecy ::: none.");
        let text = to_csv([&customer]);
        assert!(text.starts_with(
            "\u{feff}Name,Company,Job title,Email 1 label,Email 1,Email 2 label,Email 2,Phone 1 label,Phone 1,"
        ));
        // One value per cell, never joined.
        assert!(text.contains(",work,zoe@fromagerie.example,personal,zoe@home.example,"));
        assert!(!text.contains(":::") || text.contains("Annecy ::: none"));
        let file = parse_csv(&text).unwrap();
        let (_, targets) = recognise(&file.headers);
        let mut n = 0;
        let back = row_to_customer(
            &file.rows[0].1,
            &targets,
            &mut || {
                n += 1;
                format!("id{n}")
            },
            Timestamp(0),
        )
        .unwrap();
        assert!(back.warnings.is_empty(), "{:?}", back.warnings);
        let back = back.customer;
        let same = |a: &[ContactPoint], b: &[ContactPoint]| {
            a.iter()
                .map(|p| (&p.label, &p.value))
                .eq(b.iter().map(|p| (&p.label, &p.value)))
        };
        assert_eq!(back.name, customer.name);
        assert_eq!(back.company, customer.company);
        assert_eq!(back.job_title, customer.job_title);
        assert!(same(&back.emails, &customer.emails), "{:?}", back.emails);
        assert!(same(&back.phones, &customer.phones), "{:?}", back.phones);
        assert_eq!(back.address, customer.address);
        assert_eq!(back.stage, customer.stage);
        assert_eq!(back.tags, customer.tags);
        assert_eq!(back.owner, customer.owner);
        assert_eq!(back.birthday, customer.birthday);
        assert_eq!(back.notes.as_str(), customer.notes.as_str());
    }
}
