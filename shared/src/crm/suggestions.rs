//! Personal touches and cross-sell, from the summaries alone: upcoming birthdays and
//! customer anniversaries, and products often bought by customers who bought what this
//! customer bought.

use std::collections::HashMap;

use crate::{Book, CalendarDate, CustomerId, CustomerSummary};

/// What the occasion is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occasion {
    /// The customer's birthday.
    Birthday,
    /// The anniversary of the day the customer was added.
    Anniversary,
}

/// A birthday or anniversary coming up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upcoming {
    /// The customer.
    pub customer: CustomerId,
    /// Display name.
    pub name: String,
    /// Which occasion.
    pub occasion: Occasion,
    /// In how many days (0 = today).
    pub in_days: u32,
    /// Age turned, or years as a customer; `None` for a birthday whose year is unknown.
    pub years: Option<i32>,
}

fn day_of_year(year: i32, month: u32, day: u32) -> Option<i64> {
    // Days since 1970 of a civil date (Howard Hinnant's days_from_civil).
    let date = CalendarDate::parse(&format!("{year:04}-{month:02}-{day:02}"))?;
    let y = i64::from(date.year) - i64::from(date.month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(date.month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(date.day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// Days from `today` to the next `month`/`day` (a 29 February falls on 28 February in
/// other years), and the year it falls in.
fn next_occurrence(today: CalendarDate, month: u32, day: u32) -> Option<(u32, i32)> {
    let today_days = day_of_year(today.year, today.month, today.day)?;
    for year in [today.year, today.year + 1] {
        let days = day_of_year(year, month, day).or_else(|| day_of_year(year, month, day - 1))?;
        if days >= today_days {
            return Some(((days - today_days) as u32, year));
        }
    }
    None
}

/// Birthdays and customer anniversaries within `within_days` of `today` (inclusive), soonest
/// first; archived customers are left out.
pub fn upcoming(book: &Book, today: CalendarDate, within_days: u32) -> Vec<Upcoming> {
    let mut found = Vec::new();
    for summary in book.summaries().filter(|s| !s.archived) {
        let mut add = |occasion, month: u32, day: u32, since: Option<i32>| {
            if let Some((in_days, year)) = next_occurrence(today, month, day) {
                let years = since.map(|since| year - since);
                if in_days <= within_days && years.is_none_or(|years| years > 0) {
                    found.push(Upcoming {
                        customer: summary.id.clone(),
                        name: summary.display_name().to_string(),
                        occasion,
                        in_days,
                        years,
                    });
                }
            }
        };
        if let Some(birthday) = summary.birthday {
            add(
                Occasion::Birthday,
                birthday.month,
                birthday.day,
                birthday.year,
            );
        }
        if let Some(since) = summary.since {
            add(
                Occasion::Anniversary,
                since.month,
                since.day,
                Some(since.year),
            );
        }
    }
    crate::order::sort_by(&mut found, |a, b| {
        a.in_days.cmp(&b.in_days).then_with(|| a.name.cmp(&b.name))
    });
    found
}

/// A product to offer a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrossSell {
    /// The product suggested.
    pub product: String,
    /// The product of this customer that most often goes with it.
    pub because_of: String,
    /// How many customers who bought `because_of` also bought `product`.
    pub together: usize,
    /// How many customers bought `because_of`.
    pub of: usize,
}

/// Up to `limit` products for `customer`: among the other customers who bought at least one
/// product this one bought, the products they bought that this one has not, ranked by how
/// many of them bought it (ties: by product id). Each comes with the owned product it goes
/// with most often, for the one-line explanation.
pub fn cross_sell(book: &Book, customer: &CustomerSummary, limit: usize) -> Vec<CrossSell> {
    if customer.products.is_empty() {
        return Vec::new();
    }
    let owned = &customer.products;
    // For each candidate product: buyers overall among the neighbours, and per owned product.
    let mut buyers: HashMap<&str, usize> = HashMap::new();
    let mut pairs: HashMap<(&str, &str), usize> = HashMap::new();
    let mut owners: HashMap<&str, usize> = HashMap::new();
    for other in book.summaries() {
        if other.id == customer.id || other.archived {
            continue;
        }
        let shared: Vec<&str> = other
            .products
            .iter()
            .filter(|p| owned.binary_search(p).is_ok())
            .map(String::as_str)
            .collect();
        if shared.is_empty() {
            continue;
        }
        for anchor in &shared {
            *owners.entry(anchor).or_default() += 1;
        }
        for product in other
            .products
            .iter()
            .filter(|p| owned.binary_search(p).is_err())
        {
            *buyers.entry(product).or_default() += 1;
            for anchor in &shared {
                *pairs.entry((product, anchor)).or_default() += 1;
            }
        }
    }
    let mut ranked: Vec<(&str, usize)> = buyers.into_iter().collect();
    crate::order::sort_by(&mut ranked, |a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    ranked
        .into_iter()
        .take(limit)
        .map(|(product, _)| {
            let (because_of, together) = owned
                .iter()
                .map(|anchor| {
                    let n = pairs.get(&(product, anchor.as_str())).copied().unwrap_or(0);
                    (anchor.as_str(), n)
                })
                .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0)))
                .unwrap_or((owned[0].as_str(), 0));
            CrossSell {
                product: product.to_string(),
                because_of: because_of.to_string(),
                together,
                of: owners.get(because_of).copied().unwrap_or(0),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Customer, Timestamp};

    fn customer(n: u8, products: &[&str]) -> CustomerSummary {
        let mut c = Customer::new(format!("c{n}").parse().unwrap(), Timestamp(0));
        c.name = format!("Customer {n}");
        let mut summary = CustomerSummary::of(&c);
        summary.since = None;
        summary.products = products.iter().map(|p| p.to_string()).collect();
        crate::order::sort(&mut summary.products);
        summary
    }

    #[test]
    fn cross_sell_ranks_what_similar_buyers_bought() {
        let me = customer(0, &["grinder"]);
        let book = Book::from_summaries([
            me.clone(),
            customer(1, &["grinder", "beans", "training"]),
            customer(2, &["grinder", "beans"]),
            customer(3, &["grinder", "service"]),
            customer(4, &["espresso", "service", "training"]),
            customer(5, &[]),
        ]);
        let suggestions = cross_sell(&book, &me, 3);
        assert_eq!(
            suggestions,
            [
                CrossSell {
                    product: "beans".into(),
                    because_of: "grinder".into(),
                    together: 2,
                    of: 3
                },
                CrossSell {
                    product: "service".into(),
                    because_of: "grinder".into(),
                    together: 1,
                    of: 3
                },
                CrossSell {
                    product: "training".into(),
                    because_of: "grinder".into(),
                    together: 1,
                    of: 3
                },
            ]
        );
        assert!(cross_sell(&book, &customer(9, &[]), 3).is_empty());
    }

    #[test]
    fn birthdays_and_anniversaries_come_up_in_order_across_the_new_year() {
        let date = |text: &str| CalendarDate::parse(text).unwrap();
        let birthday = |text: &str| crate::Birthday::parse(text);
        let mut a = customer(1, &[]);
        a.birthday = birthday("1984-01-02");
        let mut b = customer(2, &[]);
        b.birthday = birthday("1990-12-30");
        b.since = Some(date("2020-12-28"));
        let mut leap = customer(3, &[]);
        leap.birthday = birthday("1984-02-29");
        let mut no_year = customer(4, &[]);
        no_year.birthday = birthday("--12-31");
        let book = Book::from_summaries([a, b, leap, no_year]);
        let found: Vec<String> = upcoming(&book, date("2026-12-28"), 7)
            .iter()
            .map(|u| {
                format!(
                    "{} {:?} in {} ({:?})",
                    u.name, u.occasion, u.in_days, u.years
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                "Customer 2 Anniversary in 0 (Some(6))",
                "Customer 2 Birthday in 2 (Some(36))",
                "Customer 4 Birthday in 3 (None)",
                "Customer 1 Birthday in 5 (Some(43))",
            ]
        );
        // 29 February is celebrated on the 28th in other years.
        let leap_day = upcoming(&book, date("2027-02-27"), 1);
        assert_eq!(leap_day.len(), 1);
        assert_eq!(leap_day[0].in_days, 1);
    }
}
