//! A deterministic generator of realistic customer books, for tests and benchmarks.
//!
//! The same seed always yields the same customers (ids included), so a benchmark run with
//! 10,000 customers is comparable with the next one. Randomness comes from a small
//! SplitMix64 generator seeded by the caller; `shared` has no entropy source of its own.

use crate::{
    Address, CalendarDate, Channel, ContactPoint, ContactPointId, Customer, CustomerId,
    LifecycleStage, TagSet, Timestamp,
};

const FIRST_NAMES: &[&str] = &[
    "Ada", "Bruno", "Chloé", "Dmitri", "Elena", "Farid", "Grace", "Hugo", "Inès", "Jonas", "Keiko",
    "Liam", "Maya", "Nadia", "Omar", "Priya", "Quentin", "Rosa", "Samir", "Tess", "Ugo", "Vera",
    "Wen", "Xavier", "Yara", "Zoë", "Amélie", "Björn", "Carmen", "Diego",
];
const LAST_NAMES: &[&str] = &[
    "Martin",
    "Bernard",
    "Dubois",
    "Nakamura",
    "Schmidt",
    "García",
    "Rossi",
    "Novak",
    "Kowalski",
    "Okafor",
    "Silva",
    "Jensen",
    "Moreau",
    "Fischer",
    "Haddad",
    "Lindqvist",
    "O'Brien",
    "Petit",
    "Romano",
    "Tanaka",
    "Vasquez",
    "Weber",
    "Yilmaz",
    "Zimmermann",
];
const COMPANY_STEMS: &[&str] = &[
    "Alpine",
    "Boréal",
    "Cobalt",
    "Delta",
    "Elm",
    "Fjord",
    "Granite",
    "Harbor",
    "Iris",
    "Juniper",
    "Kestrel",
    "Lumen",
    "Meridian",
    "Nimbus",
    "Orchard",
    "Pioneer",
    "Quarry",
    "Riverside",
    "Summit",
    "Tidewater",
    "Umbra",
    "Vertex",
    "Willow",
    "Zenith",
];
const COMPANY_KINDS: &[&str] = &[
    "Foods",
    "Logistics",
    "Dental",
    "Hardware",
    "Pharma",
    "Bakery",
    "Motors",
    "Textiles",
    "Hotels",
    "Clinics",
    "Farms",
    "Optics",
    "Print",
    "Solar",
    "Wines",
];
const TITLES: &[&str] = &[
    "Owner",
    "Purchasing manager",
    "Head of operations",
    "Buyer",
    "CEO",
    "Office manager",
    "Procurement lead",
    "Store manager",
    "CFO",
    "Technical director",
];
const CITIES: &[(&str, &str)] = &[
    ("Lyon", "France"),
    ("Paris", "France"),
    ("Marseille", "France"),
    ("Berlin", "Germany"),
    ("Munich", "Germany"),
    ("Milan", "Italy"),
    ("Madrid", "Spain"),
    ("Lisbon", "Portugal"),
    ("Brussels", "Belgium"),
    ("Geneva", "Switzerland"),
    ("Vienna", "Austria"),
    ("Amsterdam", "Netherlands"),
];
const TAGS: &[&str] = &[
    "vip",
    "salon-2026",
    "expo-lyon",
    "newsletter",
    "reseller",
    "key-account",
    "trial",
    "referral",
    "wholesale",
    "eco",
];
const STREETS: &[&str] = &[
    "rue de la Paix",
    "Hauptstraße",
    "Via Roma",
    "Calle Mayor",
    "Main Street",
];

/// A small deterministic pseudo-random generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct SeedRng(u64);

impl SeedRng {
    /// A generator that always yields the same sequence for the same seed.
    pub fn new(seed: u64) -> SeedRng {
        SeedRng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// `true` with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// A UUID-shaped identifier built from the generator.
    pub fn uuid(&mut self) -> String {
        let (a, b) = (self.next_u64(), self.next_u64());
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            (b >> 48 & 0x3fff) | 0x8000,
            b & 0xffff_ffff_ffff
        )
    }
}

/// The customer number `customer_idx` of the book generated from `seed`, as of `now`.
///
/// Customers are generated independently of each other, so a benchmark can write a large book
/// in batches without holding it all in memory.
pub fn customer(seed: u64, customer_idx: u64, now: Timestamp) -> Customer {
    let mut rng = SeedRng::new(seed ^ customer_idx.wrapping_mul(0xA24B_AED4_963E_E407));
    let id: CustomerId = rng
        .uuid()
        .parse()
        .expect("seed uuids are hex digits and dashes");
    let created_at = Timestamp(now.0 - rng.below(3 * 365) as i64 * Timestamp::DAY_MS);
    let mut customer = Customer::new(id, created_at);
    let first = *rng.pick(FIRST_NAMES);
    let last = *rng.pick(LAST_NAMES);
    customer.name = format!("{first} {last}");
    customer.company = format!("{} {}", rng.pick(COMPANY_STEMS), rng.pick(COMPANY_KINDS));
    customer.job_title = rng.pick(TITLES).to_string();
    let domain: String = customer
        .company
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    let mut folded = String::new();
    crate::search::book::fold_into(&format!("{first}.{last}"), &mut folded);
    let local: String = folded
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
        .collect();
    customer.emails.push(ContactPoint {
        id: ContactPointId(format!("e{}", rng.below(1 << 32))),
        label: "work".into(),
        value: format!("{local}{customer_idx}@{domain}.example"),
    });
    customer.phones.push(ContactPoint {
        id: ContactPointId(format!("p{}", rng.below(1 << 32))),
        label: "mobile".into(),
        value: format!(
            "+33 6 {:02} {:02} {:02} {:02}",
            rng.below(100),
            rng.below(100),
            rng.below(100),
            rng.below(100)
        ),
    });
    if rng.chance(30) {
        customer.phones.push(ContactPoint {
            id: ContactPointId(format!("p{}", rng.below(1 << 32))),
            label: "office".into(),
            value: format!(
                "+33 4 {:02} {:02} {:02} {:02}",
                rng.below(100),
                rng.below(100),
                rng.below(100),
                rng.below(100)
            ),
        });
    }
    let (city, country) = *rng.pick(CITIES);
    customer.address = Address {
        street: format!("{} {}", 1 + rng.below(200), rng.pick(STREETS)),
        city: city.into(),
        postal_code: format!("{:05}", rng.below(100_000)),
        region: String::new(),
        country: country.into(),
    };
    customer.stage = *rng.pick(&LifecycleStage::ALL);
    let n_tags = rng.below(4);
    customer.tags = (0..n_tags).map(|_| *rng.pick(TAGS)).collect::<TagSet>();
    customer.preferred_channel = rng.chance(60).then(|| *rng.pick(&Channel::ALL));
    customer.birthday = rng.chance(40).then(|| crate::Birthday {
        // A rep often knows only the day.
        year: (!rng.chance(20)).then(|| 1950 + rng.below(50) as i32),
        month: 1 + rng.below(12) as u32,
        day: 1 + rng.below(28) as u32,
    });
    if rng.chance(50) {
        customer.set_notes(format!(
            "Met at {}. Interested in the {} range.",
            rng.pick(&[
                "the Lyon expo",
                "a store visit",
                "a webinar",
                "a referral call"
            ]),
            rng.pick(&["premium", "starter", "seasonal", "wholesale"])
        ));
    }
    customer.owner = "Me".into();
    customer.updated_at = Timestamp(created_at.0 + rng.below(30) as i64 * Timestamp::DAY_MS);
    customer.archived = rng.chance(3);
    customer
}

/// Adds a realistic history to a seeded customer: `n_activities` activities (calls, visits,
/// emails, notes, now and then a complaint) spread over the last two years, 0-3 purchases,
/// 0-2 follow-ups and 0-2 feedback answers. Deterministic for the same customer and `seed`.
pub fn add_records(customer: &mut Customer, seed: u64, n_activities: usize, now: Timestamp) {
    use crate::model::records::*;
    let mut rng = SeedRng::new(seed ^ 0x5EED_0000 ^ customer.created_at.0 as u64);
    let kinds = [
        ActivityKind::Call,
        ActivityKind::Call,
        ActivityKind::Visit,
        ActivityKind::Email,
        ActivityKind::Meeting,
        ActivityKind::Message,
        ActivityKind::Note,
    ];
    let outcomes = [
        "Reached",
        "No answer",
        "Interested",
        "Sent",
        "Order placed",
        "",
    ];
    let summaries = [
        "Asked for the new price list",
        "Wants a demo next month",
        "Happy with the last delivery",
        "Budget decided in the spring",
        "Talked about the trade fair",
        "Prefers to be called in the morning",
    ];
    let span = 730 * Timestamp::DAY_MS;
    for n in 0..n_activities {
        let kind = if rng.chance(3) {
            ActivityKind::Complaint
        } else {
            *rng.pick(&kinds)
        };
        let at = Timestamp(now.0 - (rng.next_u64() % span as u64) as i64);
        let mut activity = Activity::new(kind, at, "seed");
        activity.outcome = rng.pick(&outcomes).to_string();
        activity.summary = rng.pick(&summaries).to_string();
        if let Some(progress) = activity.complaint.as_mut() {
            let answered = Timestamp(at.0 + (1 + rng.below(72)) as i64 * 3_600_000);
            if rng.chance(85) {
                progress.set_status(ComplaintStatus::InProgress, answered);
                if rng.chance(80) {
                    progress.set_status(
                        ComplaintStatus::Resolved,
                        Timestamp(answered.0 + (1 + rng.below(10)) as i64 * Timestamp::DAY_MS),
                    );
                }
            }
        }
        customer
            .activities
            .insert(format!("sa{n}-{}", rng.below(1 << 30)), activity);
    }
    let products = [
        ("p-espresso", "Espresso machine", 124_900),
        ("p-grinder", "Grinder", 19_990),
        ("p-beans", "Coffee beans 5 kg", 8_900),
        ("p-training", "Barista training", 35_000),
        ("p-service", "Service plan", 48_000),
    ];
    for n in 0..rng.below(4) {
        let (id, name, price) = *rng.pick(&products);
        let day = Timestamp(now.0 - (rng.next_u64() % span as u64) as i64).civil_date();
        customer.purchases.insert(
            format!("sp{n}-{}", rng.below(1 << 30)),
            Purchase {
                product_id: id.into(),
                product_name: name.into(),
                quantity: 1 + rng.below(5) as u32,
                unit_price_cents: price,
                currency: "EUR".into(),
                date: crate::CalendarDate {
                    year: day.0,
                    month: day.1,
                    day: day.2,
                },
            },
        );
    }
    for n in 0..rng.below(3) {
        let due = Timestamp(now.0 + (rng.below(60) as i64 - 20) * Timestamp::DAY_MS);
        customer.tasks.insert(
            format!("st{n}-{}", rng.below(1 << 30)),
            Task {
                title: rng
                    .pick(&[
                        "Send the quote",
                        "Call back",
                        "Visit the shop",
                        "Check the order",
                    ])
                    .to_string(),
                due,
                priority: *rng.pick(Priority::ALL),
                done_at: rng.chance(30).then_some(due),
                created_at: Timestamp(due.0 - 7 * Timestamp::DAY_MS),
                assignee: String::new(),
            },
        );
    }
    add_stage_history(customer, &mut rng, now);
    for n in 0..rng.below(3) {
        let kind = *rng.pick(FeedbackKind::ALL);
        let (low, high) = kind.range();
        customer.feedback.insert(
            format!("sf{n}-{}", rng.below(1 << 30)),
            Feedback {
                kind,
                score: low + rng.below(u64::from(high - low) + 1) as u8,
                at: Timestamp(now.0 - (rng.next_u64() % span as u64) as i64),
                channel: None,
                comment: String::new(),
            },
        );
    }
}

/// A plausible road to the customer's stage: created as a prospect, a lead or (imported) a
/// customer, then one step up the ladder at a time (churned customers were customers first),
/// at increasing instants between creation and `now`.
fn add_stage_history(customer: &mut Customer, rng: &mut SeedRng, now: Timestamp) {
    use LifecycleStage::*;
    let ladder = [Prospect, Lead, Customer, Loyal, Advocate];
    let last_step = match customer.stage {
        Churned => 2,
        stage => ladder.iter().position(|s| *s == stage).unwrap_or(0),
    };
    let first_step = rng.below(last_step.min(2) as u64 + 1) as usize;
    let mut road: Vec<LifecycleStage> = ladder[first_step..=last_step].to_vec();
    if customer.stage == Churned {
        road.push(Churned);
    }
    let mut at = customer.created_at;
    let mut from = None;
    customer.stage_changes.clear();
    for (step, to) in road.into_iter().enumerate() {
        if step > 0 {
            let left = (now.0 - at.0).max(Timestamp::DAY_MS);
            at = Timestamp(at.0 + 1 + (rng.next_u64() % (left as u64 / 2)) as i64);
        }
        customer.stage_changes.insert(
            format!("ss{step}-{}", rng.below(1 << 30)),
            crate::model::customer::StageChange { from, to, at },
        );
        from = Some(to);
    }
}

/// The dashboard fixture: seven customers whose KPIs over Q4 2026 are worked out by hand in
/// the tests of [`crate::crm::kpi`] (and checked on screen by the dashboard's end-to-end test):
///
/// - A: prospect since 2025-01-10, lead on 5 Oct 2026, customer on 1 Nov; bought 2 × p1 at
///   10.00 on 2 Nov and 1 × p2 at 50.00 on 5 Dec; NPS 0 on 30 Sep, NPS 10 and CSAT 5 on 3 Nov;
///   a complaint on 29 Sep, a call on 2 Nov, a note on 20 Nov.
/// - B: customer since 2024-03-01, last bought (p2, 50.00) on 2025-11-15; NPS 3 and CES 6 on
///   1 Dec; a complaint on 10 Oct answered in 2 h, resolved in 3 days.
/// - C: customer since 2023-05-01, loyal 2024-01-01, churned 15 Nov 2026; bought p1 at 10.00
///   on 1 Oct and 10 × p3 at 1.00 USD on 2 Oct; NPS 8 and CSAT 2 on 20 Oct; a visit on 1 Oct;
///   a complaint on 1 Nov answered in 4 h, unresolved.
/// - D: lead added on 10 Dec 2026 with a 100.00 deal in proposal.
/// - E: archived (bought 100 × p1, NPS 0, a call, all in November: counted nowhere).
/// - F: customer since 2025-01-01, churned 2025-06-01, won back 15 Oct 2026; an email on
///   1 Aug; a 20.00 deal in a pipeline stage since removed.
/// - G: customer since 2024-01-01; bought p2 at 50.00 on 2026-06-01; NPS 9 and a meeting on
///   20 Dec; a 70.00 deal won.
///
/// Instants are at noon UTC, so any time zone within ±11 h puts them on the same days.
pub fn dashboard_fixture() -> Vec<Customer> {
    use crate::model::customer::StageChange;
    use crate::model::records::*;
    use LifecycleStage as S;
    const HOUR: i64 = 3_600_000;
    let date = |year, month, day| CalendarDate { year, month, day };
    let noon = |year, month, day| {
        Timestamp(CalendarDate::day_number(date(year, month, day)) * Timestamp::DAY_MS + 12 * HOUR)
    };
    let new = |letter: &str, name: &str, created: Timestamp, stage: S| {
        let mut customer = Customer::new(
            format!("fixture-{letter}")
                .parse()
                .expect("fixture ids are valid"),
            created,
        );
        customer.name = name.into();
        customer.company = "Fixture Foods".into();
        customer.stage = stage;
        customer.updated_at = created;
        customer.stage_changes.insert(
            "s0".into(),
            StageChange {
                from: None,
                to: stage,
                at: created,
            },
        );
        customer
    };
    let move_to = |customer: &mut Customer, n: usize, from: S, to: S, at: Timestamp| {
        customer.stage = to;
        customer.stage_changes.insert(
            format!("s{n}"),
            StageChange {
                from: Some(from),
                to,
                at,
            },
        );
    };
    let buy = |customer: &mut Customer, product: &str, quantity, cents, currency: &str, on| {
        let n = customer.purchases.len();
        customer.purchases.insert(
            format!("p{n}"),
            Purchase {
                product_id: product.into(),
                product_name: format!("Product {product}"),
                quantity,
                unit_price_cents: cents,
                currency: currency.into(),
                date: on,
            },
        );
    };
    let answer = |customer: &mut Customer, kind, score, at| {
        let n = customer.feedback.len();
        customer.feedback.insert(
            format!("f{n}"),
            Feedback {
                kind,
                score,
                at,
                channel: None,
                comment: String::new(),
            },
        );
    };
    let log = |customer: &mut Customer, kind, at, answered: Option<i64>, resolved: Option<i64>| {
        let n = customer.activities.len();
        let mut activity = Activity::new(kind, at, "fixture");
        if let Some(progress) = activity.complaint.as_mut() {
            if let Some(after) = answered {
                progress.set_status(ComplaintStatus::InProgress, Timestamp(at.0 + after));
            }
            if let Some(after) = resolved {
                progress.set_status(ComplaintStatus::Resolved, Timestamp(at.0 + after));
            }
        }
        customer.activities.insert(format!("a{n}"), activity);
    };
    let deal = |customer: &mut Customer, stage: &str, cents, closed: bool| {
        customer.deals.insert(
            format!("d{}", customer.deals.len()),
            Deal {
                title: format!("Deal in {stage}"),
                stage: stage.into(),
                value_cents: cents,
                currency: "EUR".into(),
                expected_close: None,
                created_at: customer.created_at,
                closed_at: closed.then_some(customer.created_at),
            },
        );
    };

    let mut a = new("a", "Ada Fixture", noon(2025, 1, 10), S::Prospect);
    move_to(&mut a, 1, S::Prospect, S::Lead, noon(2026, 10, 5));
    move_to(&mut a, 2, S::Lead, S::Customer, noon(2026, 11, 1));
    buy(&mut a, "p1", 2, 1000, "EUR", date(2026, 11, 2));
    buy(&mut a, "p2", 1, 5000, "EUR", date(2026, 12, 5));
    answer(&mut a, FeedbackKind::Nps, 0, noon(2026, 9, 30));
    answer(&mut a, FeedbackKind::Nps, 10, noon(2026, 11, 3));
    answer(&mut a, FeedbackKind::Csat, 5, noon(2026, 11, 3));
    log(
        &mut a,
        ActivityKind::Complaint,
        noon(2026, 9, 29),
        None,
        None,
    );
    log(&mut a, ActivityKind::Call, noon(2026, 11, 2), None, None);
    log(&mut a, ActivityKind::Note, noon(2026, 11, 20), None, None);

    let mut b = new("b", "Bruno Fixture", noon(2024, 3, 1), S::Customer);
    buy(&mut b, "p2", 1, 5000, "EUR", date(2025, 11, 15));
    answer(&mut b, FeedbackKind::Nps, 3, noon(2026, 12, 1));
    answer(&mut b, FeedbackKind::Ces, 6, noon(2026, 12, 1));
    log(
        &mut b,
        ActivityKind::Complaint,
        noon(2026, 10, 10),
        Some(2 * HOUR),
        Some(3 * Timestamp::DAY_MS),
    );

    let mut c = new("c", "Chloé Fixture", noon(2023, 5, 1), S::Customer);
    move_to(&mut c, 1, S::Customer, S::Loyal, noon(2024, 1, 1));
    move_to(&mut c, 2, S::Loyal, S::Churned, noon(2026, 11, 15));
    buy(&mut c, "p1", 1, 1000, "EUR", date(2026, 10, 1));
    buy(&mut c, "p3", 10, 100, "USD", date(2026, 10, 2));
    answer(&mut c, FeedbackKind::Nps, 8, noon(2026, 10, 20));
    answer(&mut c, FeedbackKind::Csat, 2, noon(2026, 10, 20));
    log(&mut c, ActivityKind::Visit, noon(2026, 10, 1), None, None);
    log(
        &mut c,
        ActivityKind::Complaint,
        noon(2026, 11, 1),
        Some(4 * HOUR),
        None,
    );

    let mut d = new("d", "Dmitri Fixture", noon(2026, 12, 10), S::Lead);
    deal(&mut d, "proposal", 10_000, false);

    let mut e = new("e", "Elena Fixture", noon(2020, 1, 1), S::Customer);
    e.archived = true;
    buy(&mut e, "p1", 100, 1000, "EUR", date(2026, 11, 1));
    answer(&mut e, FeedbackKind::Nps, 0, noon(2026, 11, 1));
    log(&mut e, ActivityKind::Call, noon(2026, 11, 1), None, None);

    let mut f = new("f", "Farid Fixture", noon(2025, 1, 1), S::Customer);
    move_to(&mut f, 1, S::Customer, S::Churned, noon(2025, 6, 1));
    move_to(&mut f, 2, S::Churned, S::Customer, noon(2026, 10, 15));
    log(&mut f, ActivityKind::Email, noon(2026, 8, 1), None, None);
    deal(&mut f, "gone", 2_000, false);

    let mut g = new("g", "Grace Fixture", noon(2024, 1, 1), S::Customer);
    buy(&mut g, "p2", 1, 5000, "EUR", date(2026, 6, 1));
    answer(&mut g, FeedbackKind::Nps, 9, noon(2026, 12, 20));
    log(
        &mut g,
        ActivityKind::Meeting,
        noon(2026, 12, 20),
        None,
        None,
    );
    deal(&mut g, "won", 7_000, true);

    vec![a, b, c, d, e, f, g]
}

/// Ten custom fields of every kind a rep defines (fixed ids `seed-f1`…`seed-f10`), for
/// sample data and benchmarks with custom fields.
pub fn custom_fields(
) -> std::collections::BTreeMap<String, crate::model::custom_fields::FieldDefinition> {
    use crate::model::custom_fields::{FieldChoice, FieldDefinition, FieldKind};
    let kinds: [(&str, FieldKind, &[&str]); 10] = [
        (
            "Industry",
            FieldKind::Choice,
            &[
                "Retail",
                "Wholesale",
                "Hospitality",
                "Export",
                "Public sector",
            ],
        ),
        (
            "Interests",
            FieldKind::Choices,
            &["Coffee", "Tea", "Machines", "Service", "Training"],
        ),
        ("Fleet size", FieldKind::Number, &[]),
        ("Annual budget", FieldKind::Money, &[]),
        ("Licence expiry", FieldKind::Date, &[]),
        ("Key account", FieldKind::YesNo, &[]),
        ("Met at", FieldKind::Text, &[]),
        ("Account number", FieldKind::Text, &[]),
        ("Website", FieldKind::Link, &[]),
        ("Visit notes", FieldKind::LongText, &[]),
    ];
    kinds
        .iter()
        .enumerate()
        .map(|(at, (name, kind, choices))| {
            let mut field = FieldDefinition::new(name, *kind, at as i64 + 1, Timestamp(0));
            for (position, label) in choices.iter().enumerate() {
                field.choices.insert(
                    format!("c{}", position + 1),
                    FieldChoice {
                        label: label.to_string(),
                        position: position as i64 + 1,
                        archived: false,
                    },
                );
            }
            (format!("seed-f{}", at + 1), field)
        })
        .collect()
}

/// Gives `customer` a value for each of [`custom_fields`] (most of them: some are left
/// empty, as in a real book), deterministically from `seed` and `customer_idx`.
pub fn add_custom_values(customer: &mut Customer, seed: u64, customer_idx: u64) {
    let mut rng = SeedRng::new(seed ^ customer_idx.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xC057);
    let mut set = |id: &str, value: String| {
        customer.custom.insert(id.to_string(), value);
    };
    set("seed-f1", format!("c{}", 1 + rng.below(5)));
    set("seed-f3", (1 + rng.below(400)).to_string());
    set("seed-f4", format!("{} EUR", 1_000 * (1 + rng.below(200))));
    set(
        "seed-f5",
        format!(
            "{}-{:02}-{:02}",
            2026 + rng.below(4),
            1 + rng.below(12),
            1 + rng.below(28)
        ),
    );
    set(
        "seed-f6",
        if rng.chance(20) { "yes" } else { "no" }.to_string(),
    );
    set(
        "seed-f7",
        format!(
            "Booth {}{}",
            ["A", "B", "C", "D"][rng.below(4) as usize],
            1 + rng.below(40)
        ),
    );
    set("seed-f8", format!("AC-{:06}", rng.below(1_000_000)));
    if rng.chance(60) {
        set("seed-f9", format!("https://www.{}.example", customer_idx));
    }
    if rng.chance(30) {
        set(
            "seed-f10",
            "Prefers visits on Tuesday mornings; ask for the head of purchasing.".to_string(),
        );
    }
    let chosen: crate::TagSet = ["c1", "c2", "c3", "c4", "c5"]
        .into_iter()
        .filter(|_| rng.chance(40))
        .collect();
    if !chosen.is_empty() {
        customer.custom_sets.insert("seed-f2".to_string(), chosen);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::validation::validate;

    #[test]
    fn generation_is_deterministic_and_valid() {
        let now = Timestamp(1_795_341_600_000);
        for customer_idx in 0..500 {
            let customer_a = customer(7, customer_idx, now);
            let customer_b = customer(7, customer_idx, now);
            assert_eq!(customer_a, customer_b);
            validate(&customer_a).unwrap_or_else(|errors| panic!("{customer_a:?}: {errors}"));
        }
        assert_ne!(customer(7, 0, now).id, customer(7, 1, now).id);
        assert_ne!(customer(7, 0, now).id, customer(8, 0, now).id);
    }

    #[test]
    fn seeded_histories_are_valid_and_deterministic() {
        let now = Timestamp(1_795_341_600_000);
        let mut a = customer(3, 1, now);
        let mut b = customer(3, 1, now);
        add_records(&mut a, 3, 40, now);
        add_records(&mut b, 3, 40, now);
        assert_eq!(a, b);
        assert_eq!(a.activities.len(), 40);
        crate::model::validation::validate(&a).unwrap();
        // Every seeded road ends at the customer's stage, at increasing instants.
        for idx in 0..200 {
            let mut c = customer(3, idx, now);
            add_records(&mut c, 3, 5, now);
            let history = c.stage_history();
            assert_eq!(history.last().map(|change| change.to), Some(c.stage));
            assert_eq!(history[0].from, None);
            assert!(history
                .windows(2)
                .all(|w| w[0].at < w[1].at && w[1].from == Some(w[0].to)));
            assert!(history.iter().all(|change| change.at <= now));
        }
    }

    #[test]
    fn sample_custom_values_fit_their_fields() {
        let fields = super::custom_fields();
        for idx in 0..200 {
            let mut customer = super::customer(3, idx, Timestamp(1_795_341_600_000));
            super::add_custom_values(&mut customer, 3, idx);
            assert!(customer.custom.len() >= 7);
            assert_eq!(
                crate::model::custom_fields::check_values(None, &customer, &fields),
                Ok(()),
                "{:?}",
                customer.custom
            );
        }
    }
}
