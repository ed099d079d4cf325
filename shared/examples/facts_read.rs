//! Times, natively, what a dashboard's first open does with the stored facts of 10,000
//! customers with histories (e2e/bench/client.bench.ts, "dashboards over large books"):
//! decode the facts' snapshot, index them by customer, compute the figures (both periods),
//! and encode the answer the engine posts to the screens.
//! `cargo run --release -p fieldbook-shared --example facts_read`.
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use shared::crm::kpi::{dashboard, DashboardRequest, Period, PeriodKind};
use shared::documents::book_doc::default_pipeline;
use shared::model::facts::CustomerFacts;
use shared::model::snapshot::{decode, encode, ByCustomer};
use shared::{CalendarDate, Timestamp};

/// Counts the heap in use and its high-water mark, to size the facts in memory.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn mb(bytes: usize) -> f64 {
    bytes as f64 / 1_048_576.0
}

fn main() {
    let now = Timestamp(1_795_341_600_000);
    let n = 10_000u64;
    let facts: Vec<CustomerFacts> = (0..n)
        .map(|idx| {
            let mut customer = shared::seed::customer(21, idx, now);
            let activities = 5 + (idx * 7919 % 46) as usize;
            shared::seed::add_records(&mut customer, 21, activities, now);
            CustomerFacts::of(&customer)
        })
        .collect();
    sizes(&facts);
    let bytes = encode(&facts);
    println!("{} customers' facts: {} KB", n, bytes.len() / 1024);
    for _ in 0..3 {
        let before = LIVE.load(Ordering::Relaxed);
        PEAK.store(before, Ordering::Relaxed);
        let started = Instant::now();
        let decoded: Vec<CustomerFacts> = decode(&bytes).expect("decodes");
        let decoding = started.elapsed();
        println!(
            "facts in memory {:.1} MB (peak while decoding {:.1} MB)",
            mb(LIVE.load(Ordering::Relaxed) - before),
            mb(PEAK.load(Ordering::Relaxed) - before)
        );
        let started = Instant::now();
        let index = ByCustomer::new(decoded);
        let indexing = started.elapsed();
        let started = Instant::now();
        let request = DashboardRequest {
            period: Period::containing(
                PeriodKind::Quarter,
                CalendarDate::from_day_number(now.0 / 86_400_000),
            ),
            today: CalendarDate::from_day_number(now.0 / 86_400_000),
            utc_offset_ms: 0,
            not_contacted_days: 30,
            scope: None,
            default_currency: "EUR".into(),
        };
        let figures = dashboard(index.items(), &request, &default_pipeline());
        let computing = started.elapsed();
        let started = Instant::now();
        let answer = shared::sync::protocol::encode(&figures);
        let encoding = started.elapsed();
        println!(
            "decode {:.1} ms, index {:.1} ms ({} customers), figures {:.1} ms, answer encoded {:.1} ms ({} KB)",
            decoding.as_secs_f64() * 1e3,
            indexing.as_secs_f64() * 1e3,
            index.items().len(),
            computing.as_secs_f64() * 1e3,
            encoding.as_secs_f64() * 1e3,
            answer.len() / 1024,
        );
    }
}

/// One kind of fact of a customer, encoded.
type Encode = fn(&CustomerFacts) -> Vec<u8>;

/// Bytes of each kind of fact, over every customer.
fn sizes(facts: &[CustomerFacts]) {
    let bytes = |encode: Encode| -> usize { facts.iter().map(|x| encode(x).len()).sum() };
    let kinds: [(&str, Encode); 7] = [
        ("id", |x| postcard::to_allocvec(&x.id).unwrap()),
        ("stages", |x| postcard::to_allocvec(&x.stages).unwrap()),
        ("feedback", |x| postcard::to_allocvec(&x.feedback).unwrap()),
        ("purchases", |x| {
            postcard::to_allocvec(&x.purchases).unwrap()
        }),
        ("complaints", |x| {
            postcard::to_allocvec(&x.complaints).unwrap()
        }),
        ("activities", |x| {
            postcard::to_allocvec(&x.activities).unwrap()
        }),
        ("deals", |x| postcard::to_allocvec(&x.deals).unwrap()),
    ];
    for (kind, encode) in kinds {
        println!("{kind} {}", bytes(encode));
    }
    println!(
        "({} activities)",
        facts.iter().map(|x| x.activities.len()).sum::<usize>()
    );
}
