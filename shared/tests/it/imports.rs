//! Real export layouts, as each tool documents them, with messy content: every file is
//! read (encoding, header, delimiter), recognised, and each row's every field checked.

use shared::formats::import::{parse_csv, recognise, row_to_customer, ImportedRow, Layout};
use shared::formats::text::{decode_detected, TextEncoding};
use shared::{Birthday, Timestamp};

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
    assert_eq!(c.birthday, Birthday::parse("1984-06-15"));
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
    assert_eq!(c.birthday, Birthday::parse("1985-03-14"));
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
    assert_eq!(c.birthday, Birthday::parse("1979-11-02"));
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
    assert_eq!(c.birthday, Birthday::parse("1990-04-30"));
}

mod round_trips {
    //! Any customer → CSV → import, and → vCard → import, is the same customer (for the
    //! fields each format carries).
    use proptest::prelude::*;
    use shared::formats::csv_export::to_csv;
    use shared::formats::import::{parse_csv, recognise, row_to_customer};
    use shared::formats::vcard::{parse_vcards, to_vcard, Version};
    use shared::model::customer::ContactPointId;
    use shared::{Birthday, ContactPoint, Customer, LifecycleStage, Timestamp};

    /// Text a rep types: letters with accents and other scripts, digits, punctuation that
    /// the formats quote or escape (quotes, commas, semicolons, backslashes), inner spaces.
    fn text(max: usize) -> impl Strategy<Value = String> {
        proptest::string::string_regex(&format!(
            "[A-Za-z0-9ÀÉÖøßŁżç李小龙\"',;.&()/\\\\-]([A-Za-z0-9ÀÉÖøßŁżç李小龙\"',;.&()/\\\\ -]{{0,{max}}}[A-Za-z0-9ÀÉÖøßŁżç李小龙\"',;.&/\\\\-])?"
        ))
        .unwrap()
    }

    fn point(
        value: impl Strategy<Value = String>,
        labels: &'static [&'static str],
    ) -> impl Strategy<Value = (String, String)> {
        (value, proptest::sample::select(labels)).prop_map(|(v, l)| (l.to_string(), v))
    }

    fn email() -> impl Strategy<Value = String> {
        "[a-z][a-z0-9.]{0,10}[a-z0-9]@[a-z]{1,10}\\.(example|com|de)"
    }

    fn phone() -> impl Strategy<Value = String> {
        "\\+?[1-9][0-9]{2}( [0-9]{2,4}){1,3}"
    }

    prop_compose! {
        fn customer(phone_labels: &'static [&'static str])(
            name in text(30),
            company in text(30),
            job_title in proptest::option::of(text(20)),
            emails in proptest::collection::vec(point(email(), &["work", "personal"]), 0..3),
            phones in proptest::collection::vec(point(phone(), phone_labels), 0..3),
            street in proptest::option::of(text(30)),
            city in proptest::option::of(text(15)),
            postal_code in proptest::option::of("[0-9A-Z]{3,6}( [0-9A-Z]{3})?"),
            country in proptest::option::of(text(15)),
            stage in proptest::sample::select(LifecycleStage::ALL.to_vec()),
            tags in proptest::collection::btree_set("[a-z0-9][a-z0-9 _-]{0,12}[a-z0-9]", 0..4),
            owner in proptest::option::of(text(15)),
            birthday in proptest::option::of((proptest::option::of(1930i32..2010), 1u32..13, 1u32..29)),
            notes in proptest::option::of(proptest::collection::vec(text(40), 1..4)),
        ) -> Customer {
            let mut c = Customer::new("00000000-0000-4000-8000-000000000001".parse().unwrap(), Timestamp(0));
            c.name = name;
            c.company = company;
            c.job_title = job_title.unwrap_or_default();
            c.emails = emails.into_iter().enumerate().map(|(i, (label, value))| ContactPoint { id: ContactPointId(format!("e{i}")), label, value }).collect();
            c.phones = phones.into_iter().enumerate().map(|(i, (label, value))| ContactPoint { id: ContactPointId(format!("p{i}")), label, value }).collect();
            c.address.street = street.unwrap_or_default();
            c.address.city = city.unwrap_or_default();
            c.address.postal_code = postal_code.unwrap_or_default();
            c.address.country = country.unwrap_or_default();
            c.stage = stage;
            for tag in tags {
                c.tags.insert(&tag);
            }
            c.owner = owner.unwrap_or_default();
            c.birthday = birthday.and_then(|(y, m, d)| Birthday::new(y, m, d));
            if let Some(lines) = notes {
                c.set_notes(lines.join("\n"));
            }
            c
        }
    }

    fn points(points: &[ContactPoint]) -> Vec<(&str, &str)> {
        points
            .iter()
            .map(|p| (p.label.as_str(), p.value.as_str()))
            .collect()
    }

    fn assert_same(back: &Customer, original: &Customer, with_region: bool) {
        assert_eq!(back.name, original.name);
        assert_eq!(back.company, original.company);
        assert_eq!(back.job_title, original.job_title);
        assert_eq!(points(&back.emails), points(&original.emails));
        assert_eq!(points(&back.phones), points(&original.phones));
        assert_eq!(back.address.street, original.address.street);
        assert_eq!(back.address.city, original.address.city);
        assert_eq!(back.address.postal_code, original.address.postal_code);
        assert_eq!(back.address.country, original.address.country);
        if with_region {
            assert_eq!(back.address.region, original.address.region);
        }
        assert_eq!(back.stage, original.stage);
        assert_eq!(back.tags, original.tags);
        assert_eq!(back.owner, original.owner);
        assert_eq!(back.birthday, original.birthday);
        assert_eq!(back.notes.as_str(), original.notes.as_str());
    }

    fn ids() -> impl FnMut() -> String {
        let mut n = 0;
        move || {
            n += 1;
            format!("00000000-0000-4000-8000-{n:012}")
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        #[test]
        fn csv_export_then_import_is_the_same_customer(
            original in customer(&["work", "mobile", "home", "work ext. 12"])
        ) {
            let text = to_csv([&original]);
            let file = parse_csv(&text).unwrap();
            let (_, targets) = recognise(&file.headers);
            prop_assert_eq!(file.rows.len(), 1);
            let back = row_to_customer(&file.rows[0].1, &targets, &mut ids(), Timestamp(0)).unwrap();
            prop_assert!(back.warnings.is_empty(), "{:?}", back.warnings);
            assert_same(&back.customer, &original, true);
        }

        #[test]
        fn vcard_export_then_import_is_the_same_customer(
            original in customer(&["work", "mobile", "home"]),
            v4 in any::<bool>(),
        ) {
            let version = if v4 { Version::V4 } else { Version::V3 };
            let card = to_vcard(&original, version);
            let cards = parse_vcards(&card, &mut ids(), Timestamp(0));
            prop_assert_eq!(cards.len(), 1);
            let back = cards.into_iter().next().unwrap().1.unwrap();
            assert_same(&back, &original, true);
        }
    }
}

#[test]
fn google_contacts_with_several_values_per_cell() {
    let (layout, encoding, rows) = import("google-contacts.csv");
    assert_eq!(
        (layout, encoding),
        (Layout::GoogleContacts, TextEncoding::Utf8)
    );
    let imported = &rows[0].1;
    assert!(imported.warnings.is_empty(), "{:?}", imported.warnings);
    let c = &imported.customer;
    assert_eq!(c.name, "Dra. María José García-Pérez");
    assert_eq!(c.company, "Clínica Sol, S.L.");
    assert_eq!(c.job_title, "Directora");
    assert_eq!(
        values(&c.emails),
        [
            ("work", "mj@clinicasol.example"),
            ("work", "mariajose@clinicasol.example")
        ]
    );
    // Google puts each value's label in a column of its own ("Phone 1 - Label": Mobile).
    assert_eq!(values(&c.phones), [("mobile", "+34 612 34 56 78")]);
    assert_eq!(
        (
            c.address.street.as_str(),
            c.address.city.as_str(),
            c.address.postal_code.as_str(),
            c.address.country.as_str()
        ),
        ("Calle Mayor 5", "Madrid", "28013", "España")
    );
    assert_eq!(c.birthday, Birthday::parse("1975-08-09"));
    assert_eq!(
        c.notes.as_str(),
        "Conocida en la feria,\n\"muy interesada\"."
    );
    assert_eq!(c.tags.iter().collect::<Vec<_>>(), ["Feria 2026", "VIP"]);
}

#[test]
fn hubspot_labels_additional_emails_and_extensions() {
    let (layout, _, rows) = import("hubspot-contacts.csv");
    assert_eq!(layout, Layout::HubSpot);
    let imported = &rows[0].1;
    assert!(imported.warnings.is_empty(), "{:?}", imported.warnings);
    let c = &imported.customer;
    assert_eq!(c.name, "Ólafur Sigurðsson");
    assert_eq!(c.company, "Fiskur ehf.");
    assert_eq!(c.job_title, "Innkaupastjóri");
    assert_eq!(c.owner, "Anna Jónsdóttir");
    assert_eq!(
        values(&c.emails),
        [
            ("work", "olafur@fiskur.example"),
            ("work", "oli@gmail.example"),
            ("work", "olafur.s@fiskur.example")
        ]
    );
    assert_eq!(
        values(&c.phones),
        [
            ("work ext. 7", "+354 551 2345"),
            ("mobile", "+354 661 2345")
        ]
    );
    assert_eq!(c.address.city, "Reykjavík");
    assert_eq!(
        c.stage,
        shared::LifecycleStage::Lead,
        "Marketing Qualified Lead"
    );
    let c = &rows[1].1.customer;
    assert_eq!(
        (c.company.as_str(), c.stage),
        ("渡辺商事", shared::LifecycleStage::Lead)
    );
}
