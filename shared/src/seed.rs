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
    crate::book::fold_into(&format!("{first}.{last}"), &mut folded);
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
    customer.birthday = rng.chance(40).then(|| CalendarDate {
        year: 1950 + rng.below(50) as i32,
        month: 1 + rng.below(12) as u32,
        day: 1 + rng.below(28) as u32,
    });
    if rng.chance(50) {
        customer.notes = autosurgeon::Text::with_value(format!(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::validate;

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
}
