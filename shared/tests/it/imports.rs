//! Real export layouts, as each tool documents them, with messy content: every file is
//! read (encoding, header, delimiter), recognised, and each row's every field checked.

use shared::formats::import::{parse_csv, recognise, row_to_customer, ImportedRow, Layout};
use shared::formats::text::{decode_detected, TextEncoding};
use shared::{CalendarDate, Timestamp};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/imports/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// The file's layout, encoding and every row as imported (with its line).
fn import(name: &str) -> (Layout, TextEncoding, Vec<(u64, ImportedRow)>) {
    let (text, encoding) = decode_detected(&fixture(name));
    let file = parse_csv(&text).unwrap();
    let (layout, targets) = recognise(&file.headers);
    let mut n = 0;
    let mut ids = move || {
        n += 1;
        format!("00000000-0000-4000-8000-{n:012}")
    };
    let rows = file
        .rows
        .iter()
        .map(|(line, row)| {
            let imported = row_to_customer(row, &targets, &mut ids, Timestamp(0))
                .unwrap_or_else(|err| panic!("{name} line {line}: {err}"));
            (*line, imported)
        })
        .collect();
    (layout, encoding, rows)
}

fn values(points: &[shared::ContactPoint]) -> Vec<(&str, &str)> {
    points
        .iter()
        .map(|p| (p.label.as_str(), p.value.as_str()))
        .collect()
}

#[test]
fn classic_outlook_in_german_and_windows_1252() {
    let (layout, encoding, rows) = import("outlook-classic-de.csv");
    assert_eq!(
        (layout, encoding),
        (Layout::Outlook, TextEncoding::Windows1252)
    );
    assert_eq!(rows.len(), 2);
    let (line, bjoern) = &rows[0];
    assert_eq!(*line, 2);
    assert!(bjoern.warnings.is_empty(), "{:?}", bjoern.warnings);
    let c = &bjoern.customer;
    assert_eq!(c.name, "Herr Björn Müller-Lüdenscheidt");
    assert_eq!(c.company, "Großhandel Süd GmbH");
    assert_eq!(c.job_title, "Einkaufsleiter");
    assert_eq!(c.address.street, "Königstraße 12");
    assert_eq!(c.address.city, "Stuttgart");
    assert_eq!(c.address.postal_code, "70173");
    assert_eq!(c.address.country, "Deutschland");
    assert_eq!(
        values(&c.phones),
        [("work", "+49 711 123456"), ("mobile", "+49 171 2345678")]
    );
    assert_eq!(
        values(&c.emails),
        [
            ("work", "b.mueller@grosshandel-sued.example"),
            ("work", "bjoern@privat.example")
        ]
    );
    assert_eq!(c.birthday, None, "0.0.00 is Outlook's empty birthday");
    assert_eq!(c.tags.iter().collect::<Vec<_>>(), ["Messe 2026", "VIP"]);
    assert_eq!(
        c.notes.as_str(),
        "Trifft sich gern früh.\r\nZweite Zeile: „Qualität“ zählt."
    );
    let (line, zoe) = &rows[1];
    assert_eq!(*line, 4, "the notes above span two lines");
    let c = &zoe.customer;
    assert_eq!(c.name, "Frau Zoë Anne Ærø Dr.");
    assert_eq!(values(&c.phones), [("home", "0711 987654")]);
    assert_eq!(c.birthday, CalendarDate::parse("1984-06-15"));
    assert_eq!(
        c.notes.as_str(),
        "Home address: Gartenweg 3, Esslingen, 73728"
    );
}

#[test]
fn outlook_com_in_english_with_a_bom() {
    let (layout, encoding, rows) = import("outlook-com-en.csv");
    assert_eq!((layout, encoding), (Layout::Outlook, TextEncoding::Utf8));
    let c = &rows[0].1.customer;
    assert!(rows[0].1.warnings.is_empty(), "{:?}", rows[0].1.warnings);
    assert_eq!(
        c.name, "Ms. Siobhán O'Brien",
        "Title is the honorific, not the job"
    );
    assert_eq!(c.job_title, "Fleet Manager");
    assert_eq!(c.company, "Dublin Logistics Ltd.");
    assert_eq!(
        values(&c.emails),
        [
            ("work", "siobhan@obrien.example"),
            ("work", "s.obrien@home.example")
        ]
    );
    assert_eq!(
        values(&c.phones),
        [
            ("work ext. 12", "+353 1 234 5678"),
            ("mobile", "+353 87 123 4567")
        ]
    );
    assert_eq!(c.address.postal_code, "D02 X576");
    assert_eq!(c.birthday, CalendarDate::parse("1985-03-14"));
    assert_eq!(
        c.notes.as_str(),
        "Met at \"TransportExpo\", booth B12.\nWants a quote for 40 vans."
    );
    let c = &rows[1].1.customer;
    assert_eq!(
        (c.name.as_str(), c.company.as_str()),
        ("李 小龙", "深圳贸易有限公司")
    );
    assert_eq!(c.birthday, None);
}

#[test]
fn zoho_is_not_taken_for_hubspot_and_loses_nothing() {
    let (layout, _, rows) = import("zoho-contacts.csv");
    assert_eq!(layout, Layout::Zoho);
    let imported = &rows[0].1;
    assert!(imported.warnings.is_empty(), "{:?}", imported.warnings);
    let c = &imported.customer;
    assert_eq!(c.name, "João Gonçalves");
    assert_eq!(c.company, "Frota Lusitana, Lda.");
    assert_eq!(c.job_title, "Diretor de Compras");
    assert_eq!(c.owner, "Ana Costa");
    assert_eq!(
        values(&c.emails),
        [("work", "joao@frota.example"), ("work", "jg@gmail.example")]
    );
    assert_eq!(
        values(&c.phones),
        [("work", "+351 21 123 4567"), ("mobile", "+351 91 234 5678")]
    );
    assert_eq!(
        (
            c.address.street.as_str(),
            c.address.city.as_str(),
            c.address.postal_code.as_str(),
            c.address.country.as_str()
        ),
        ("Rua Augusta 100", "Lisboa", "1100-053", "Portugal")
    );
    assert_eq!(c.birthday, CalendarDate::parse("1979-11-02"));
    assert_eq!(
        c.notes.as_str(),
        "Interested in 12 trucks; call after 15:00."
    );
    assert_eq!(c.tags.iter().collect::<Vec<_>>(), ["Hot", "Lisbon fair"]);
}

#[test]
fn pipedrive_people_with_person_prefixes() {
    let (layout, _, rows) = import("pipedrive-people.csv");
    assert_eq!(layout, Layout::Pipedrive);
    let imported = &rows[0].1;
    assert!(imported.warnings.is_empty(), "{:?}", imported.warnings);
    let c = &imported.customer;
    assert_eq!(c.name, "Ingrid Østergaard");
    assert_eq!(c.company, "Nordisk Transport A/S");
    assert_eq!(c.job_title, "Indkøbschef");
    assert_eq!(c.owner, "Kim Larsen");
    assert_eq!(
        values(&c.emails),
        [
            ("work", "ingrid@nordisk.example"),
            ("personal", "ingrid.o@mail.example")
        ]
    );
    assert_eq!(
        values(&c.phones),
        [("work", "+45 33 12 34 56"), ("mobile", "+45 20 12 34 56")]
    );
    assert_eq!(c.tags.iter().collect::<Vec<_>>(), ["Hot lead"]);
    assert_eq!(c.birthday, CalendarDate::parse("1990-04-30"));
}
