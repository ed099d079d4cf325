//! CSV export of customers (a segment or the whole book) from their summaries, in a layout
//! the import recognises back (see [`crate::formats::import`]).

use crate::{model::records::format_money, CustomerSummary};

/// The header row.
pub const HEADERS: [&str; 12] = [
    "Name",
    "Company",
    "Job title",
    "Email",
    "Phone",
    "City",
    "Country",
    "Stage",
    "Tags",
    "Owner",
    "Lifetime value",
    "Last contact",
];

/// The customers as CSV text (RFC 4180 quoting; several emails or phones joined by " ::: ").
pub fn to_csv<'a>(customers: impl IntoIterator<Item = &'a CustomerSummary>) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    // Writing to a Vec cannot fail.
    let _ = writer.write_record(HEADERS);
    for c in customers {
        let last_contact = c
            .last_contact
            .map(|at| {
                let (year, month, day) = at.civil_date();
                format!("{year:04}-{month:02}-{day:02}")
            })
            .unwrap_or_default();
        let _ = writer.write_record([
            c.name.as_str(),
            &c.company,
            &c.job_title,
            &c.emails.join(" ::: "),
            &c.phones.join(" ::: "),
            &c.city,
            &c.country,
            c.stage.as_str(),
            &c.tags.join(";"),
            &c.owner,
            &format_money(c.lifetime_value_cents, "EUR"),
            &last_contact,
        ]);
    }
    let bytes = writer.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        formats::import::{parse_csv, recognise, row_to_customer},
        Customer, Timestamp,
    };

    #[test]
    fn an_export_imports_back() {
        let mut customer = Customer::new("c1".parse().unwrap(), Timestamp(0));
        customer.name = "Zoë \"Zed\" Dupont".into();
        customer.company = "Fromagerie, Lyon".into();
        customer.tags.insert("vip");
        customer.tags.insert("salon-2026");
        customer.address.city = "Lyon".into();
        let text = to_csv([&CustomerSummary::of(&customer)]);
        assert!(text.starts_with("Name,Company,Job title,Email,"));
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
        assert_eq!(back.name, customer.name);
        assert_eq!(back.company, customer.company);
        assert_eq!(back.address.city, "Lyon");
        assert_eq!(back.tags, customer.tags);
        assert_eq!(back.stage, customer.stage);
    }
}
