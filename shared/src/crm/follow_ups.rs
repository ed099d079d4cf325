//! The follow-up views: what is overdue, due today and coming up, across the whole book,
//! from the summaries alone (no document is loaded).

use crate::{model::records::Priority, Book, CustomerId, CustomerSummary, Timestamp};

/// One thing to do for a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUp {
    /// The customer.
    pub customer: CustomerId,
    /// The customer's display name.
    pub customer_name: String,
    /// The task's record id; `None` for a recurring check-in.
    pub task: Option<String>,
    /// What to do.
    pub title: String,
    /// When it is due.
    pub due: Timestamp,
    /// How urgent (check-ins are normal).
    pub priority: Priority,
    /// Whom it is for (a team member's email; empty for anyone, and for check-ins).
    pub assignee: String,
}

impl FollowUp {
    /// Whether it is for `me` (a team member's email) or for anyone.
    pub fn is_for(&self, me: &str) -> bool {
        self.assignee.is_empty() || self.assignee.eq_ignore_ascii_case(me.trim())
    }
}

/// Follow-ups split by when they are due.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FollowUpViews {
    /// Due before today, oldest first.
    pub overdue: Vec<FollowUp>,
    /// Due today, earliest first.
    pub today: Vec<FollowUp>,
    /// Due after today, earliest first.
    pub upcoming: Vec<FollowUp>,
}

impl FollowUpViews {
    /// How many need attention now (overdue and today): the badge count.
    pub fn due_now(&self) -> usize {
        self.overdue.len() + self.today.len()
    }
}

/// The open follow-ups and check-ins of every customer not archived, split at the local
/// midnights `today` (start of today) and `tomorrow` (start of tomorrow). Within a group:
/// by due time, then higher priority first, then customer name.
pub fn follow_ups(book: &Book, today: Timestamp, tomorrow: Timestamp) -> FollowUpViews {
    let mut views = FollowUpViews::default();
    for summary in book.summaries() {
        for item in of_customer(summary) {
            let group = if item.due < today {
                &mut views.overdue
            } else if item.due < tomorrow {
                &mut views.today
            } else {
                &mut views.upcoming
            };
            group.push(item);
        }
    }
    for group in [&mut views.overdue, &mut views.today, &mut views.upcoming] {
        crate::order::sort_by(group, |a, b| {
            a.due
                .cmp(&b.due)
                .then_with(|| b.priority.cmp(&a.priority))
                .then_with(|| a.customer_name.cmp(&b.customer_name))
        });
    }
    views
}

/// A customer's open follow-ups and check-in, in no particular order; none when archived.
pub fn of_customer(summary: &CustomerSummary) -> impl Iterator<Item = FollowUp> + '_ {
    let live = !summary.archived;
    let tasks = (summary.open_tasks.iter().filter(move |_| live)).map(|task| FollowUp {
        customer: summary.id.clone(),
        customer_name: summary.display_name().to_string(),
        task: Some(task.id.clone()),
        title: task.title.clone(),
        due: task.due,
        priority: task.priority,
        assignee: task.assignee.clone(),
    });
    let check_in = (summary.check_in_due.filter(|_| live)).map(|due| FollowUp {
        customer: summary.id.clone(),
        customer_name: summary.display_name().to_string(),
        task: None,
        title: "Check in".to_string(),
        due,
        priority: Priority::Normal,
        assignee: String::new(),
    });
    tasks.chain(check_in)
}

/// When a customer's follow-ups for `me` fall due (`None`: everyone's, as in the own
/// book): what a badge counts for a book whose summaries are not searched on this page.
pub fn due_times(summary: &CustomerSummary, me: Option<&str>) -> Vec<Timestamp> {
    of_customer(summary)
        .filter(|item| me.is_none_or(|me| item.is_for(me)))
        .map(|item| item.due)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_follow_up_is_hers_when_assigned_to_her_or_to_anyone() {
        let item = |assignee: &str| FollowUp {
            customer: "c1".parse().unwrap(),
            customer_name: "Nora".into(),
            task: Some("t1".into()),
            title: "Call".into(),
            due: Timestamp(0),
            priority: Priority::Normal,
            assignee: assignee.into(),
        };
        assert!(item("Rita@Example.com").is_for("rita@example.com "));
        assert!(item("").is_for("rita@example.com"));
        assert!(!item("ada@example.com").is_for("rita@example.com"));
    }
    use crate::{model::records::Task, Customer, CustomerSummary};

    const DAY: i64 = Timestamp::DAY_MS;

    fn customer(n: u8, name: &str, tasks: &[(&str, i64, Priority, bool)]) -> Customer {
        let id = format!("00000000-0000-4000-8000-0000000000{n:02}");
        let mut customer = Customer::new(id.parse().unwrap(), Timestamp(0));
        customer.name = name.into();
        for (idx, &(title, due, priority, done)) in tasks.iter().enumerate() {
            customer.tasks.insert(
                format!("t{idx}"),
                Task {
                    title: title.into(),
                    due: Timestamp(due),
                    priority,
                    done_at: done.then_some(Timestamp(1)),
                    created_at: Timestamp(0),
                    assignee: String::new(),
                },
            );
        }
        customer
    }

    #[test]
    fn follow_ups_are_split_into_overdue_today_and_upcoming() {
        let today = Timestamp(10 * DAY);
        let tomorrow = Timestamp(11 * DAY);
        let ada = customer(
            1,
            "Ada",
            &[
                ("Send the quote", 9 * DAY, Priority::Normal, false),
                ("Call back", 10 * DAY + 3_600_000, Priority::Low, false),
                ("Already done", 9 * DAY, Priority::High, true),
            ],
        );
        let bob = customer(
            2,
            "Bob",
            &[("Demo", 10 * DAY + 3_600_000, Priority::High, false)],
        );
        let mut cleo = customer(3, "Cleo", &[]);
        cleo.check_in_days = Some(30); // never contacted, created at 0: due on day 30
        let mut archived = customer(4, "Dan", &[("Hidden", 9 * DAY, Priority::High, false)]);
        archived.archived = true;
        let book = Book::from_summaries([ada, bob, cleo, archived].iter().map(CustomerSummary::of));
        let views = follow_ups(&book, today, tomorrow);
        let titles = |group: &[FollowUp]| -> Vec<String> {
            group
                .iter()
                .map(|f| format!("{} {}", f.customer_name, f.title))
                .collect()
        };
        assert_eq!(titles(&views.overdue), ["Ada Send the quote"]);
        // Same due time: the higher priority first.
        assert_eq!(titles(&views.today), ["Bob Demo", "Ada Call back"]);
        assert_eq!(titles(&views.upcoming), ["Cleo Check in"]);
        assert_eq!(views.upcoming[0].task, None);
        assert_eq!(views.due_now(), 3);
    }

    #[test]
    fn due_times_count_hers_and_anyones_but_not_an_archived_customers() {
        let mut nora = customer(
            1,
            "Nora",
            &[
                ("Mine", 5 * DAY, Priority::Normal, false),
                ("Anyone's", 6 * DAY, Priority::Normal, false),
                ("Ada's", 7 * DAY, Priority::Normal, false),
                ("Done", 8 * DAY, Priority::Normal, true),
            ],
        );
        nora.tasks.get_mut("t0").unwrap().assignee = "Rita@example.com".into();
        nora.tasks.get_mut("t2").unwrap().assignee = "ada@example.com".into();
        nora.check_in_days = Some(30);
        let summary = CustomerSummary::of(&nora);
        let mut hers = due_times(&summary, Some("rita@example.com"));
        crate::order::sort(&mut hers);
        assert_eq!(
            hers,
            [Timestamp(5 * DAY), Timestamp(6 * DAY), Timestamp(30 * DAY)]
        );
        assert_eq!(due_times(&summary, None).len(), 4);
        nora.archived = true;
        assert!(due_times(&CustomerSummary::of(&nora), None).is_empty());
    }

    #[test]
    fn an_empty_book_has_nothing_to_do() {
        let views = follow_ups(&Book::default(), Timestamp(0), Timestamp(DAY));
        assert_eq!(views, FollowUpViews::default());
    }
}
