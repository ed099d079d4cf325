//! Real export layouts, as each tool documents them, with messy content: every file is
//! read (encoding, header, delimiter), recognised, and each row's every field checked.

use shared::formats::import::{
    parse_csv, recognise, row_to_customer_with, ImportChoices, ImportedRow, Layout,
};
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
    let choices = ImportChoices::for_file(&file, &targets);
    let mut n = 0;
    let mut ids = move || {
        n += 1;
        format!("00000000-0000-4000-8000-{n:012}")
    };
    let rows = file
        .rows
        .iter()
        .map(|(line, row)| {
            let imported = row_to_customer_with(row, &targets, &choices, &mut ids, Timestamp(0))
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
    // Zoho's "Full Name" leaves out the salutation, which has a column of its own.
    assert_eq!(c.name, "Sr. João Gonçalves");
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
            let back = cards.into_iter().next().unwrap().1.unwrap().customer;
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

#[test]
fn salesforce_report_with_its_footer_and_us_dates() {
    let (text, _) = decode_detected(&fixture("salesforce-report.csv"));
    let file = parse_csv(&text).unwrap();
    // The footer (totals, copyright, who generated it) is left out, with its lines.
    let left_out: Vec<u64> = file.skipped.iter().map(|(line, _)| *line).collect();
    assert_eq!(left_out, [7, 9, 10, 11, 12]);
    let (layout, _, rows) = import("salesforce-report.csv");
    assert_eq!(layout, Layout::Salesforce);
    assert_eq!(rows.len(), 3);
    let (line, siobhan) = &rows[0];
    assert_eq!(*line, 2);
    assert!(siobhan.warnings.is_empty(), "{:?}", siobhan.warnings);
    let c = &siobhan.customer;
    assert_eq!(c.name, "Ms. Siobhán O'Connor");
    assert_eq!(c.company, "Harbour Freight, Inc.");
    assert_eq!(c.job_title, "VP Operations");
    assert_eq!(c.address.street, "1 Dock Rd\nSuite 400");
    assert_eq!(
        (
            c.address.city.as_str(),
            c.address.region.as_str(),
            c.address.postal_code.as_str(),
            c.address.country.as_str()
        ),
        ("Boston", "MA", "02110", "United States")
    );
    assert_eq!(
        values(&c.phones),
        [
            ("work ext. 12", "(617) 555-0143"),
            ("mobile", "(617) 555-0199")
        ]
    );
    assert_eq!(values(&c.emails), [("work", "siobhan@harbour.example")]);
    assert_eq!(c.birthday, Birthday::parse("1979-03-17"));
    assert_eq!(c.owner, "Dana Whitfield");
    assert_eq!(c.notes.as_str(), "Met at ProMat; wants \"fleet\" pricing.");
    // A line further on: the multi-line street counts as two lines of the file.
    let (line, wei) = &rows[1];
    assert_eq!(*line, 4);
    assert_eq!(wei.customer.name, "Wei Zhang");
    assert_eq!(wei.customer.company, "上海贸易有限公司");
    assert_eq!(wei.customer.job_title, "采购经理");
    let ahmed = &rows[2].1.customer;
    assert_eq!(ahmed.name, "Dr. Ahmed Al-Farsi");
    assert_eq!(ahmed.birthday, Birthday::parse("1968-12-01"));
}

#[test]
fn salesforce_data_export_with_api_names() {
    let (layout, _, rows) = import("salesforce-data-export.csv");
    assert_eq!(layout, Layout::Salesforce);
    let c = &rows[0].1.customer;
    assert_eq!(c.name, "Mr. Jürgen Weiß");
    // AccountId is an id, not a company name: not imported (and reported as such).
    assert_eq!(c.company, "");
    assert_eq!(c.job_title, "Einkauf");
    assert_eq!(
        values(&c.phones),
        [("work", "+49 89 555 0101"), ("mobile", "+49 171 5550101")]
    );
    assert_eq!(
        (
            c.address.street.as_str(),
            c.address.city.as_str(),
            c.address.region.as_str()
        ),
        ("Leopoldstraße 7", "München", "BY")
    );
    assert_eq!(c.birthday, Birthday::parse("1970-02-28"));
    assert_eq!(c.notes.as_str(), "Zwei Standorte.\nRuft morgens an.");
    assert_eq!(rows[1].1.customer.name, "Nakamura");
}

#[test]
fn linkedin_connections_after_their_notes() {
    let (layout, _, rows) = import("linkedin-connections.csv");
    assert_eq!(layout, Layout::LinkedIn);
    let found: Vec<(u64, &str, &str, &str)> = rows
        .iter()
        .map(|(line, r)| {
            let c = &r.customer;
            (
                *line,
                c.name.as_str(),
                c.company.as_str(),
                c.job_title.as_str(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                5,
                "Chloé Lefèvre",
                "Lefèvre & Fils, SARL",
                "Directrice commerciale"
            ),
            (6, "Kenji Sato", "株式会社サトウ", "営業部長"),
            (7, "Ngozi Okafor-Bello", "", ""),
        ]
    );
    assert_eq!(
        values(&rows[1].1.customer.emails),
        [("work", "kenji.sato@example.jp")]
    );
}

#[test]
fn older_google_contacts_layout_with_types_and_a_birthday_without_a_year() {
    let (layout, _, rows) = import("google-contacts-legacy.csv");
    assert_eq!(layout, Layout::GoogleContacts);
    let zoltan = &rows[0].1;
    assert!(zoltan.warnings.is_empty(), "{:?}", zoltan.warnings);
    let c = &zoltan.customer;
    assert_eq!(c.name, "Zoltán Kovács Jr.");
    assert_eq!(c.company, "Kovács Kft.");
    assert_eq!(c.job_title, "Ügyvezető");
    assert_eq!(c.birthday.unwrap().to_string(), "--06-15");
    assert_eq!(
        values(&c.emails),
        [
            ("work", "zoltan@kovacs.example"),
            ("home", "zoli@freemail.example")
        ]
    );
    assert_eq!(
        values(&c.phones),
        [
            ("mobile", "+36 30 555 0123"),
            ("mobile", "+36 30 555 0124"),
            ("work", "+36 1 555 0100")
        ]
    );
    assert_eq!(
        (
            c.address.street.as_str(),
            c.address.city.as_str(),
            c.address.postal_code.as_str()
        ),
        ("Andrássy út 12", "Budapest", "1061")
    );
    assert_eq!(c.tags.iter().collect::<Vec<_>>(), ["Budapest 2026"]);
    assert_eq!(c.notes.as_str(), "Prefers calls after 16:00");
    // A business known only by its email.
    let bakery = &rows[1].1;
    assert_eq!(bakery.customer.name, "orders@bakery.example");
    assert_eq!(
        values(&bakery.customer.emails),
        [("other", "orders@bakery.example")]
    );
    assert_eq!(
        bakery.warnings,
        ["no name or company: named after its email"]
    );
}

fn cards(name: &str) -> Vec<(u64, Result<ImportedRow, String>)> {
    let (text, _) = decode_detected(&fixture(name));
    let mut n = 0;
    let mut ids = move || {
        n += 1;
        format!("00000000-0000-4000-8000-{n:012}")
    };
    shared::formats::vcard::parse_vcards(&text, &mut ids, Timestamp(0))
}

#[test]
fn apple_icloud_vcards_with_labels_photo_and_a_birthday_without_a_year() {
    let cards = cards("apple-icloud.vcf");
    assert_eq!(cards.len(), 2);
    let (line, milica) = &cards[0];
    assert_eq!(*line, 1);
    let c = &milica.as_ref().unwrap().customer;
    assert_eq!(c.name, "Milica Đorđević");
    assert_eq!(c.company, "Studio Đorđević");
    assert_eq!(c.job_title, "Vlasnica");
    assert_eq!(values(&c.emails), [("work", "milica@studio.example")]);
    assert_eq!(
        values(&c.phones),
        [("mobile", "+381 64 555 0101"), ("work", "+381 11 555 0100")]
    );
    assert_eq!(
        (
            c.address.street.as_str(),
            c.address.city.as_str(),
            c.address.postal_code.as_str(),
            c.address.country.as_str()
        ),
        ("Knez Mihailova 5", "Beograd", "11000", "Serbia")
    );
    assert_eq!(
        c.notes.as_str(),
        "Upoznale smo se na sajmu, Novi Sad.\nZanima je katalog 2027."
    );
    assert_eq!(c.birthday.unwrap().to_string(), "--03-08");
    assert_eq!(c.tags.iter().collect::<Vec<_>>(), ["Sajam 2026", "VIP"]);
    let (line, bakery) = &cards[1];
    assert_eq!(*line, 20);
    let bakery = &bakery.as_ref().unwrap().customer;
    // A company card (X-ABShowAs:COMPANY): the company, no contact person.
    assert_eq!(
        (bakery.name.as_str(), bakery.company.as_str()),
        ("", "Pekara Kod Mike")
    );
    assert_eq!(bakery.birthday, Birthday::parse("1990-01-31"));
}

#[test]
fn android_vcard_2_1_with_quoted_printable_and_a_photo() {
    let cards = cards("android-2.1.vcf");
    assert_eq!(cards.len(), 2);
    let c = &cards[0].1.as_ref().unwrap().customer;
    assert_eq!(c.name, "Łukasz Łukasiewicz");
    assert_eq!(c.company, "Hurtownia Żaba Sp. z o.o.");
    assert_eq!(
        c.notes.as_str(),
        "Spotkanie na targach w Poznańiu. Bardzo zainteresowany ofertą na 2027."
    );
    assert_eq!(c.address.street, "ul. Marszałkowska 1");
    assert_eq!(c.address.city, "Warszawa");
    assert_eq!(
        values(&c.phones),
        [("mobile", "+48 600 555 010"), ("work", "+48 22 555 0100")]
    );
    assert_eq!(values(&c.emails), [("personal", "lukasz@poczta.example")]);
    assert_eq!(c.birthday.unwrap().to_string(), "--11-30");
    // A card with only a number is named after it.
    let (line, only_a_number) = &cards[1];
    assert_eq!(*line, 17);
    let only_a_number = only_a_number.as_ref().unwrap();
    assert_eq!(only_a_number.customer.name, "+48 601 555 777");
    assert_eq!(
        only_a_number.warnings,
        ["no name or company: named after its phone"]
    );
}

#[test]
fn properties_not_imported_from_vcards_are_counted_for_the_report() {
    let (text, _) = decode_detected(&fixture("apple-icloud.vcf"));
    assert_eq!(
        shared::formats::vcard::unused_properties(&text),
        [("PHOTO".to_string(), 1)]
    );
    let card = "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:A\r\nURL:https://a.example\r\nitem1.URL:https://b.example\r\nNICKNAME:Al\r\nNICKNAME:\r\nEND:VCARD\r\n";
    assert_eq!(
        shared::formats::vcard::unused_properties(card),
        [("URL".to_string(), 2), ("NICKNAME".to_string(), 1)]
    );
}

/// Every non-empty value of every CSV fixture is accounted for: in the customer (its
/// words, in any form: a date rewritten, a label lower-cased), in a warning, mapped to a
/// stage, or in a column the report lists as not imported.
#[test]
fn no_value_of_any_fixture_is_lost_without_a_warning_or_a_report_line() {
    use shared::formats::import::{unused_columns, StageMap, Target};
    let dir = format!("{}/tests/fixtures/imports", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".csv"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "{files:?}");
    // Runs of letters or of digits: "x12" (an extension) is "x" and "12".
    let words = |text: &str| -> Vec<String> {
        let mut words: Vec<String> = Vec::new();
        let mut last: Option<bool> = None;
        for c in text.to_lowercase().chars() {
            let kind = c.is_alphanumeric().then(|| c.is_numeric());
            match kind {
                Some(digit) if last == Some(digit) => words.last_mut().unwrap().push(c),
                Some(_) => words.push(c.to_string()),
                None => {}
            }
            last = kind;
        }
        words
    };
    let mut checked = 0;
    for name in &files {
        let (text, _) = decode_detected(&fixture(name));
        let file = parse_csv(&text).unwrap();
        let (_, targets) = recognise(&file.headers);
        let choices = ImportChoices::for_file(&file, &targets);
        let reported: Vec<String> = unused_columns(&file, &targets)
            .into_iter()
            .map(|(header, _)| header)
            .collect();
        let mut n = 0;
        let mut ids = move || {
            n += 1;
            format!("00000000-0000-4000-8000-{n:012}")
        };
        for (line, row) in &file.rows {
            let imported = row_to_customer_with(row, &targets, &choices, &mut ids, Timestamp(0))
                .unwrap_or_else(|err| panic!("{name} line {line}: {err}"));
            let found = format!(
                "{} {}",
                serde_json::to_string(&imported.customer).unwrap(),
                imported.warnings.join(" ")
            )
            .to_lowercase();
            for (col, value) in row.iter().enumerate() {
                let value = value.trim();
                if value.is_empty() {
                    continue;
                }
                checked += 1;
                let header = &file.headers[col];
                match targets.get(col).copied().unwrap_or(Target::Ignore) {
                    Target::Ignore => assert!(
                        reported.contains(header),
                        "{name} line {line}: {header} = {value:?} neither imported nor reported"
                    ),
                    Target::Stage => assert!(
                        StageMap::default().stage_of(value) == Some(imported.customer.stage)
                            || found.contains(&value.to_lowercase()),
                        "{name} line {line}: stage {value:?} lost"
                    ),
                    // Outlook's empty birthday is no birthday.
                    Target::Birthday if value.chars().all(|c| "0/.- ".contains(c)) => {}
                    _ => {
                        // Google's system group is every contact, not a label.
                        let value = value.replace("myContacts", "").replace("My Contacts", "");
                        for word in words(&value) {
                            assert!(
                                found.contains(&word),
                                "{name} line {line}: {header} = {value:?}: {word:?} lost"
                            );
                        }
                    }
                }
            }
        }
    }
    assert!(checked > 200, "{checked} values checked");
}

#[test]
fn classic_outlook_in_french_with_day_first_dates() {
    let (layout, encoding, rows) = import("outlook-classic-fr.csv");
    assert_eq!(
        (layout, encoding),
        (Layout::Outlook, TextEncoding::Windows1252)
    );
    let helene = &rows[0].1;
    assert!(helene.warnings.is_empty(), "{:?}", helene.warnings);
    let c = &helene.customer;
    assert_eq!(c.name, "Mme Hélène Lefèbvre-Côté");
    assert_eq!(c.company, "Boulangerie Côté & Fils");
    // The second "Titre" column is the job title.
    assert_eq!(c.job_title, "Gérante");
    assert_eq!(
        (
            c.address.street.as_str(),
            c.address.city.as_str(),
            c.address.postal_code.as_str()
        ),
        ("12, rue de l'Église", "Besançon", "25000")
    );
    assert_eq!(
        values(&c.phones),
        [("work", "03 81 55 01 23"), ("mobile", "06 12 34 56 78")]
    );
    assert_eq!(
        values(&c.emails),
        [("work", "helene@boulangerie-cote.example")]
    );
    // 05/04/1975 in a French file is 5 April.
    assert_eq!(c.birthday, Birthday::parse("1975-04-05"));
    assert_eq!(c.tags.iter().collect::<Vec<_>>(), ["Fidèle", "Salon 2026"]);
    assert!(
        c.notes
            .as_str()
            .starts_with("Commande « pain bio » chaque mardi."),
        "{}",
        c.notes.as_str()
    );
    assert!(c
        .notes
        .as_str()
        .contains("Home address: 3 allée des Tilleuls, Besançon"));
    let francois = &rows[1].1;
    assert!(francois.warnings.is_empty(), "{:?}", francois.warnings);
    assert_eq!(francois.customer.birthday, Birthday::parse("1980-12-25"));
}

#[test]
fn the_order_of_day_and_month_is_found_from_the_dates_or_the_headers_language() {
    use shared::formats::import::Target;
    let day_first = |csv: &str| {
        let file = parse_csv(csv).unwrap();
        let (_, targets) = recognise(&file.headers);
        assert!(targets.contains(&Target::Birthday), "{targets:?}");
        ImportChoices::for_file(&file, &targets).day_first
    };
    // A day over 12 in first place settles it, whatever the language.
    assert!(day_first("Name,Birthday\nA,05/04/1975\nB,25/12/1980\n"));
    // US files: month first, and a day over 12 in second place says so.
    assert!(!day_first("Name,Birthday\nA,05/04/1975\n"));
    assert!(!day_first("Vorname,Nachname,Geburtstag\nA,B,04/25/1975\n"));
    // Undecided dates in a file with German headers: day first.
    assert!(day_first("Vorname,Nachname,Geburtstag\nA,B,05/04/1975\n"));
}

/// Every fixture cut short anywhere (a download that stopped, a file truncated by a full
/// disk) is read to a result or a reason, never a panic: every cut point of the first
/// 4 KB, then every 97th byte.
#[test]
fn truncated_files_give_a_result_or_a_reason_never_a_panic() {
    use shared::formats::import::{stage_values, unused_columns};
    let dir = format!("{}/tests/fixtures/imports", env!("CARGO_MANIFEST_DIR"));
    let mut cuts = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let bytes = fixture(&name);
        for cut in (0..bytes.len().min(4096)).chain((4096..bytes.len()).step_by(97)) {
            cuts += 1;
            let (text, _) = decode_detected(&bytes[..cut]);
            let mut n = 0;
            let mut ids = || {
                n += 1;
                format!("c-{n}")
            };
            if name.ends_with(".vcf") {
                let _ = shared::formats::vcard::parse_vcards(&text, &mut ids, Timestamp(0));
                let _ = shared::formats::vcard::unused_properties(&text);
            } else if let Ok(file) = parse_csv(&text) {
                let (_, targets) = recognise(&file.headers);
                let choices = ImportChoices::for_file(&file, &targets);
                let _ = unused_columns(&file, &targets);
                let _ = stage_values(&file, &targets, &choices.stages);
                for (_, row) in &file.rows {
                    let _ = row_to_customer_with(row, &targets, &choices, &mut ids, Timestamp(0));
                }
            }
        }
    }
    assert!(cuts > 10_000, "{cuts} cuts");
}

/// Every non-empty property of the vCard fixtures is in the customer (its words), a
/// warning, or the report's properties not imported.
#[test]
fn no_value_of_any_vcard_fixture_is_lost_without_a_warning_or_a_report_line() {
    for name in ["apple-icloud.vcf", "android-2.1.vcf"] {
        let (text, _) = decode_detected(&fixture(name));
        let unused: Vec<String> = shared::formats::vcard::unused_properties(&text)
            .into_iter()
            .map(|(property, _)| property)
            .collect();
        let found: String = cards(name)
            .iter()
            .map(|(_, card)| {
                let card = card.as_ref().unwrap();
                format!(
                    "{} {}",
                    serde_json::to_string(&card.customer).unwrap(),
                    card.warnings.join(" ")
                )
            })
            .collect::<String>()
            .to_lowercase();
        // Unfolded lines (a continuation starts with a space; quoted-printable soft breaks).
        let unfolded = text.replace("=\r\n", "").replace("\r\n ", "");
        for line in unfolded.lines() {
            let Some((head, value)) = line.split_once(':') else {
                continue;
            };
            let property = head.split(';').next().unwrap();
            let property = property.rsplit('.').next().unwrap().to_uppercase();
            if [
                "BEGIN",
                "END",
                "VERSION",
                "PRODID",
                "X-ABLABEL",
                "X-ABADR",
                "X-ABSHOWAS",
            ]
            .contains(&property.as_str())
                || value.trim().is_empty()
                || unused.contains(&property)
            {
                continue;
            }
            // Quoted-printable values are checked decoded, through the customer.
            if head.to_lowercase().contains("quoted-printable") {
                continue;
            }
            // Apple's placeholder year means "no year".
            let value = match head.to_lowercase().split_once("x-apple-omit-year=") {
                Some((_, year)) => value.replacen(year, "", 1),
                None => value.to_string(),
            };
            for word in value
                .to_lowercase()
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty() && *w != "n")
            {
                assert!(
                    found.contains(word),
                    "{name}: {property} = {value:?}: {word:?} lost"
                );
            }
        }
    }
}

mod custom_fields {
    //! Custom fields through CSV: a column becomes a new field of the kind its values
    //! suggest, and an export with custom columns imports back into the same values.
    use std::collections::BTreeMap;

    use shared::formats::csv_export::to_csv_with_fields;
    use shared::formats::import::{
        custom_columns, field_from_column, parse_csv, recognise, row_to_customer_with,
        ImportChoices,
    };
    use shared::model::custom_fields::{FieldDefinition, FieldKind};
    use shared::{Customer, Timestamp};

    fn ids() -> impl FnMut() -> String {
        let mut n = 0;
        move || {
            n += 1;
            format!("00000000-0000-4000-8000-{n:012}")
        }
    }

    #[test]
    fn unmapped_columns_become_fields_of_the_kind_their_values_suggest() {
        let text = "Name,Industry,Fleet size,Licence expiry,Website,Met at\n\
            Ada,Retail,12,2027-03-01,https://ada.example,booth B12\n\
            Bea,Wholesale,7,2026-12-31,www.bea.example,the talk\n\
            Cem,retail,1 200,2028-01-15,,\n\
            Dan,Retail,3,,https://dan.example,booth B14\n\
            Eva,Wholesale,,2027-06-30,,\n";
        let file = parse_csv(text).unwrap();
        let (_, targets) = recognise(&file.headers);
        let kinds: Vec<(String, FieldKind, Vec<String>)> = (1..file.headers.len())
            .map(|col| {
                let field = field_from_column(&file, col, col as i64, Timestamp(0));
                let labels = field
                    .offered_choices()
                    .iter()
                    .map(|(_, l)| l.to_string())
                    .collect();
                (field.name, field.kind, labels)
            })
            .collect();
        assert_eq!(
            kinds,
            [
                (
                    "Industry".into(),
                    FieldKind::Choice,
                    vec!["Retail".into(), "Wholesale".into()]
                ),
                ("Fleet size".into(), FieldKind::Number, vec![]),
                ("Licence expiry".into(), FieldKind::Date, vec![]),
                ("Website".into(), FieldKind::Link, vec![]),
                ("Met at".into(), FieldKind::Text, vec![]),
            ]
        );
        // Mapped to those new fields, every row's values land in them; "retail" is the
        // "Retail" choice.
        let mut choices = ImportChoices::for_file(&file, &targets);
        for col in 1..file.headers.len() {
            let field = field_from_column(&file, col, col as i64, Timestamp(0));
            choices.custom.insert(col, (format!("f{col}"), field));
        }
        let rows: Vec<Customer> = (file.rows.iter())
            .map(|(_, row)| {
                let imported =
                    row_to_customer_with(row, &targets, &choices, &mut ids(), Timestamp(0))
                        .unwrap();
                assert!(imported.warnings.is_empty(), "{:?}", imported.warnings);
                imported.customer
            })
            .collect();
        assert_eq!(rows[2].custom["f1"], rows[0].custom["f1"], "same choice");
        assert_eq!(rows[2].custom["f2"], "1200");
        assert_eq!(rows[1].custom["f4"], "https://www.bea.example");
        assert!(
            !rows[4].custom.contains_key("f2"),
            "an empty cell is no value"
        );
    }

    #[test]
    fn a_value_a_field_cannot_hold_is_kept_in_the_notes_not_lost() {
        let text = "Name,Fleet size\nAda,a dozen\n";
        let file = parse_csv(text).unwrap();
        let (_, targets) = recognise(&file.headers);
        let mut choices = ImportChoices::for_file(&file, &targets);
        choices.custom.insert(
            1,
            (
                "f-fleet".into(),
                FieldDefinition::new("Fleet size", FieldKind::Number, 1, Timestamp(0)),
            ),
        );
        let imported = row_to_customer_with(
            &file.rows[0].1,
            &targets,
            &choices,
            &mut ids(),
            Timestamp(0),
        )
        .unwrap();
        assert!(imported.customer.custom.is_empty());
        assert!(imported
            .customer
            .notes
            .as_str()
            .contains("Fleet size: a dozen"));
        assert_eq!(imported.warnings.len(), 1);
    }

    #[test]
    fn an_export_with_custom_columns_imports_back_into_the_same_values() {
        let header = "Name,Industry,Interests,Fleet size,Budget,Visit day,Key account\n\
            Ada,Retail,Coffee;Tea,12.5,1250 EUR,2027-03-01,Yes\n\
            Bea,Wholesale,Tea,7,99.9 USD,2026-12-31,No\n";
        let file = parse_csv(header).unwrap();
        let mut fields = BTreeMap::new();
        for (col, id) in [
            "",
            "f-industry",
            "f-interests",
            "f-fleet",
            "f-budget",
            "f-visit",
            "f-key",
        ]
        .iter()
        .enumerate()
        .skip(1)
        {
            let mut field = field_from_column(&file, col, col as i64, Timestamp(0));
            // Two rows are too few to guess choices: those fields are made as the rep
            // would choose them.
            let offered: &[&str] = match *id {
                "f-interests" => &["Coffee", "Tea"],
                "f-industry" => &["Retail", "Wholesale"],
                _ => &[],
            };
            if !offered.is_empty() {
                field.kind = if *id == "f-interests" {
                    FieldKind::Choices
                } else {
                    FieldKind::Choice
                };
                field.choices.clear();
                for (at, label) in offered.iter().enumerate() {
                    field.choices.insert(
                        format!("c{at}"),
                        shared::model::custom_fields::FieldChoice {
                            label: label.to_string(),
                            position: at as i64,
                            archived: false,
                        },
                    );
                }
            }
            fields.insert(id.to_string(), field);
        }
        let kinds: Vec<FieldKind> = ["f-industry", "f-fleet", "f-budget", "f-visit", "f-key"]
            .iter()
            .map(|id| fields[*id].kind)
            .collect();
        assert_eq!(
            kinds,
            [
                FieldKind::Choice,
                FieldKind::Number,
                FieldKind::Money,
                FieldKind::Date,
                FieldKind::YesNo
            ]
        );
        let read = |text: &str| -> Vec<Customer> {
            let file = parse_csv(text).unwrap();
            let (_, targets) = recognise(&file.headers);
            let mut choices = ImportChoices::for_file(&file, &targets);
            for (col, id) in custom_columns(&file.headers, &targets, &fields) {
                choices
                    .custom
                    .insert(col, (id.clone(), fields[&id].clone()));
            }
            (file.rows.iter())
                .map(|(_, row)| {
                    let imported =
                        row_to_customer_with(row, &targets, &choices, &mut ids(), Timestamp(0))
                            .unwrap();
                    assert!(imported.warnings.is_empty(), "{:?}", imported.warnings);
                    imported.customer
                })
                .collect()
        };
        let first = read(header);
        assert_eq!(first[0].custom_sets["f-interests"].len(), 2);
        assert_eq!(first[0].custom["f-budget"], "1250 EUR");
        let exported = to_csv_with_fields(first.iter(), &fields);
        assert!(exported
            .lines()
            .next()
            .unwrap()
            .ends_with(",Industry,Interests,Fleet size,Budget,Visit day,Key account"));
        let second = read(&exported);
        for (a, b) in first.iter().zip(&second) {
            assert_eq!(a.custom, b.custom);
            assert_eq!(a.custom_sets, b.custom_sets);
            assert_eq!(a.name, b.name);
        }
    }
}
