//! A customer's history: every change once, in words, with its device and time, the same on
//! every device; a field's values; "Put this back".

use automerge::ActorId;
use shared::{
    field_history,
    model::records::{Activity, ActivityKind, Complaint, ComplaintStatus, Deal, Task},
    ContactPoint, ContactPointId, Customer, CustomerDoc, CustomerId, DocError, HistoryEntry,
    LifecycleStage, Timestamp,
};

fn pipeline() -> Vec<shared::documents::book_doc::PipelineStage> {
    shared::documents::book_doc::default_pipeline()
}

const T0: Timestamp = Timestamp(1_795_341_600_000);
const MINUTE: i64 = 60_000;

fn at(minutes: i64) -> Timestamp {
    Timestamp(T0.0 + minutes * MINUTE)
}

fn actor(n: u8) -> ActorId {
    ActorId::from(vec![n; 16])
}

fn customer() -> Customer {
    let id: CustomerId = "7d5b1c9e-3f0a-4c55-8e21-0a9b8c7d6e5f".parse().unwrap();
    let mut customer = Customer::new(id, T0);
    customer.name = "Zoë Dupont".into();
    customer.company = "Fromagerie Lyonnaise".into();
    customer.stage = LifecycleStage::Lead;
    customer.phones = vec![ContactPoint {
        id: ContactPointId("p1".into()),
        label: "mobile".into(),
        value: "+33 6 12 34 56 78".into(),
    }];
    customer
}

/// Each entry as "device | line; line" (newest first), to compare in one assertion.
fn lines(history: &[HistoryEntry]) -> Vec<String> {
    history
        .iter()
        .map(|entry| {
            let words: Vec<&str> = entry.lines.iter().map(|line| line.text.as_str()).collect();
            format!("{} | {}", entry.device, words.join("; "))
        })
        .collect()
}

/// A phone and a tablet: the phone creates the customer, both edit, one offline.
fn two_devices() -> (CustomerDoc, CustomerDoc) {
    let mut phone =
        CustomerDoc::create_by(customer(), actor(1), Some("Chrome on Android".into()), T0).unwrap();
    let mut tablet = phone.fork(actor(2));
    tablet.set_author(Some("Safari on iPad".into()));
    (phone, tablet)
}

#[test]
fn every_change_once_with_its_device_and_time_in_the_same_order_on_both_devices() {
    let (mut phone, mut tablet) = two_devices();
    // The tablet is offline and works first; the phone works later; then they meet.
    tablet
        .update(at(10), |c| c.stage = LifecycleStage::Customer)
        .unwrap();
    tablet
        .update(at(11), |c| {
            c.activities.insert(
                "a1".into(),
                Activity {
                    outcome: "reached".into(),
                    summary: "Wants a quote for 40 wheels".into(),
                    ..Activity::new(ActivityKind::Call, at(11), "Safari on iPad")
                },
            );
        })
        .unwrap();
    phone
        .update(at(20), |c| c.address.city = "Villeurbanne".into())
        .unwrap();
    phone.merge(&mut tablet).unwrap();
    tablet.merge(&mut phone).unwrap();

    let on_phone = phone.history(&pipeline());
    let on_tablet = tablet.history(&pipeline());
    assert_eq!(
        lines(&on_phone),
        [
            "Chrome on Android | City: Villeurbanne",
            "Safari on iPad | Call logged: reached — Wants a quote for 40 wheels",
            "Safari on iPad | Stage: Lead → Customer",
            "Chrome on Android | Added as Lead",
        ]
    );
    let times: Vec<Timestamp> = on_phone.iter().map(|entry| entry.time).collect();
    assert_eq!(times, [at(20), at(11), at(10), T0]);
    // The same entries on the tablet; only "this device" differs.
    assert_eq!(on_tablet.len(), on_phone.len());
    for (phone_entry, tablet_entry) in on_phone.iter().zip(&on_tablet) {
        assert_eq!(phone_entry.change, tablet_entry.change);
        assert_eq!(phone_entry.lines, tablet_entry.lines);
        assert_eq!(phone_entry.time, tablet_entry.time);
    }
    let this: Vec<bool> = on_tablet.iter().map(|entry| entry.this_device).collect();
    assert_eq!(this, [false, true, true, false]);
    // Every change is listed exactly once.
    let mut hashes: Vec<&str> = on_phone.iter().map(|entry| entry.change.as_str()).collect();
    hashes.sort();
    hashes.dedup();
    assert_eq!(hashes.len(), 4);
}

type Edit = Box<dyn FnOnce(&mut Customer)>;

#[test]
fn words_for_every_kind_of_change() {
    let (mut phone, _) = two_devices();
    let steps: Vec<(Edit, &str)> = vec![
        (
            Box::new(|c: &mut Customer| c.company = "Fromagerie du Rhône".into()),
            "Company: Fromagerie Lyonnaise → Fromagerie du Rhône",
        ),
        (
            Box::new(|c: &mut Customer| c.job_title = "Buyer".into()),
            "Job title: Buyer",
        ),
        (
            Box::new(|c: &mut Customer| c.job_title.clear()),
            "Job title removed (was Buyer)",
        ),
        (
            Box::new(|c: &mut Customer| {
                c.phones.push(ContactPoint {
                    id: ContactPointId("p2".into()),
                    label: "office".into(),
                    value: "+43 1 234 5678".into(),
                })
            }),
            "Phone added: +43 1 234 5678 (office)",
        ),
        (
            Box::new(|c: &mut Customer| c.phones[0].value = "+33 6 99 99 99 99".into()),
            "Phone: +33 6 12 34 56 78 → +33 6 99 99 99 99",
        ),
        (
            Box::new(|c: &mut Customer| {
                c.phones.remove(0);
            }),
            "Phone removed: +33 6 99 99 99 99 (mobile)",
        ),
        (
            Box::new(|c: &mut Customer| {
                c.tags.insert("Salon Lyon 2026");
            }),
            "Tag added: Salon Lyon 2026",
        ),
        (
            Box::new(|c: &mut Customer| {
                c.tags.remove("Salon Lyon 2026");
            }),
            "Tag removed: Salon Lyon 2026",
        ),
        (
            Box::new(|c: &mut Customer| c.notes.update("Prefers morning visits.")),
            "Notes: added “Prefers morning visits.”",
        ),
        (
            Box::new(|c: &mut Customer| c.notes.update("Prefers visits.")),
            "Notes: 8 characters removed",
        ),
        (
            Box::new(|c: &mut Customer| {
                c.tasks.insert(
                    "t1".into(),
                    Task {
                        title: "Send the price list".into(),
                        due: at(60 * 24),
                        priority: shared::model::records::Priority::Normal,
                        done_at: None,
                        created_at: at(0),
                        assignee: String::new(),
                    },
                );
            }),
            "Follow-up added: “Send the price list”, due 2026-11-23",
        ),
        (
            Box::new(|c: &mut Customer| {
                c.tasks.get_mut("t1").unwrap().assignee = "rita@example.com".into();
            }),
            "Follow-up for rita@example.com: “Send the price list”",
        ),
        (
            Box::new(|c: &mut Customer| {
                c.tasks.get_mut("t1").unwrap().done_at = Some(at(30));
            }),
            "Follow-up done: “Send the price list”",
        ),
        (
            Box::new(|c: &mut Customer| {
                c.deals.insert(
                    "d1".into(),
                    Deal {
                        title: "Fleet renewal".into(),
                        stage: "proposal".into(),
                        value_cents: 1_200_000,
                        currency: "EUR".into(),
                        expected_close: None,
                        created_at: at(0),
                        closed_at: None,
                    },
                );
            }),
            "Deal added: “Fleet renewal” (Proposal, 12,000.00 EUR)",
        ),
        (
            Box::new(|c: &mut Customer| c.deals.get_mut("d1").unwrap().stage = "won".into()),
            "Deal “Fleet renewal” moved to Won",
        ),
        (
            Box::new(|c: &mut Customer| {
                c.deals.remove("d1");
            }),
            "Deal deleted: “Fleet renewal”",
        ),
        (
            Box::new(|c: &mut Customer| c.stage = LifecycleStage::Loyal),
            "Stage: Lead → Loyal customer",
        ),
        (
            Box::new(|c: &mut Customer| {
                c.activities.insert(
                    "k1".into(),
                    Activity {
                        summary: "Wheel arrived bent".into(),
                        complaint: Some(Complaint::default()),
                        ..Activity::new(ActivityKind::Complaint, at(40), "Phone")
                    },
                );
            }),
            "Complaint received: Wheel arrived bent",
        ),
        (
            Box::new(|c: &mut Customer| {
                let complaint = c
                    .activities
                    .get_mut("k1")
                    .unwrap()
                    .complaint
                    .as_mut()
                    .unwrap();
                complaint.status = ComplaintStatus::InProgress;
                complaint.first_response_at = Some(at(41));
            }),
            "Complaint in progress: Wheel arrived bent",
        ),
        (Box::new(|c: &mut Customer| c.archived = true), "Archived"),
        (
            Box::new(|c: &mut Customer| c.archived = false),
            "Brought back from the archive",
        ),
    ];
    let mut expected = Vec::new();
    for (minute, (edit, words)) in steps.into_iter().enumerate() {
        assert!(
            phone.update(at(minute as i64 + 1), edit).unwrap(),
            "{words}"
        );
        expected.push(words.to_string());
    }
    let history = phone.history(&pipeline());
    let mut got: Vec<String> = history
        .iter()
        .map(|entry| {
            let words: Vec<&str> = entry.lines.iter().map(|line| line.text.as_str()).collect();
            words.join("; ")
        })
        .collect();
    got.reverse();
    assert_eq!(got[0], "Added as Lead");
    assert_eq!(&got[1..], &expected[..]);
}

#[test]
fn a_conflict_and_its_resolution_are_in_the_history() {
    let (mut phone, mut tablet) = two_devices();
    phone
        .update(at(1), |c| c.company = "Fromagerie du Rhône".into())
        .unwrap();
    tablet
        .update(at(2), |c| c.company = "Fromagerie Lyonnaise SA".into())
        .unwrap();
    phone.merge(&mut tablet).unwrap();
    let conflict = phone.conflicts().remove(0);
    let losing = conflict.values.iter().find(|value| !value.kept).unwrap();
    phone
        .resolve_conflict("company", &losing.op, at(3))
        .unwrap();
    let history = lines(&phone.history(&pipeline()));
    assert_eq!(history.len(), 4, "{history:#?}");
    assert!(
        history[0].ends_with("Conflict on Company resolved"),
        "{history:#?}"
    );
    assert_eq!(
        history[1],
        "Safari on iPad | Company: Fromagerie Lyonnaise → Fromagerie Lyonnaise SA; \
         Company was also changed on Chrome on Android at the same time: both values kept until one is chosen"
    );
    assert_eq!(
        history[2],
        "Chrome on Android | Company: Fromagerie Lyonnaise → Fromagerie du Rhône"
    );
}

#[test]
fn a_fields_values_over_time_and_put_this_back_as_a_new_change_that_syncs() {
    let (mut phone, mut tablet) = two_devices();
    phone
        .update(at(1), |c| c.stage = LifecycleStage::Customer)
        .unwrap();
    phone
        .update(at(2), |c| c.stage = LifecycleStage::Churned)
        .unwrap();
    tablet.merge(&mut phone).unwrap();
    let values = field_history(&tablet.history(&pipeline()), "stage");
    let shown: Vec<(&str, &str)> = values
        .iter()
        .map(|value| (value.display.as_str(), value.device.as_str()))
        .collect();
    assert_eq!(
        shown,
        [
            ("Churned", "Chrome on Android"),
            ("Customer", "Chrome on Android"),
            ("Lead", "Chrome on Android"),
        ]
    );
    // A field's first value is the one the customer was created with, dated with the creation.
    phone
        .update(at(3), |c| c.company = "Fromagerie du Rhône".into())
        .unwrap();
    tablet.merge(&mut phone).unwrap();
    let company = field_history(&tablet.history(&pipeline()), "company");
    let shown: Vec<(&str, Timestamp)> = company
        .iter()
        .map(|value| (value.value.as_str(), value.time))
        .collect();
    assert_eq!(
        shown,
        [("Fromagerie du Rhône", at(3)), ("Fromagerie Lyonnaise", T0)]
    );
    // The tablet puts "Customer" back: a new change, the old ones untouched.
    assert!(tablet.put_back("stage", &values[1].value, at(5)).unwrap());
    assert_eq!(tablet.customer().stage, LifecycleStage::Customer);
    let history = tablet.history(&pipeline());
    assert_eq!(history.len(), 5);
    assert_eq!(history[0].lines[0].text, "Stage: Churned → Customer");
    assert_eq!(history[0].device, "Safari on iPad");
    // It reaches the phone like any edit, with the stage change recorded for the KPIs.
    phone.merge(&mut tablet).unwrap();
    assert_eq!(phone.customer().stage, LifecycleStage::Customer);
    assert_eq!(phone.customer().stage_changes.len(), 4);
    // Putting back what is already there changes nothing.
    assert!(!tablet.put_back("stage", "customer", at(6)).unwrap());
}

#[test]
fn put_this_back_is_validated_like_any_edit() {
    let (mut phone, _) = two_devices();
    phone.update(at(1), |c| c.company.clear()).unwrap();
    phone.update(at(2), |c| c.name.clear()).unwrap_err();
    // A phone that was removed cannot get a value back.
    phone.update(at(3), |c| c.phones.clear()).unwrap();
    let err = phone
        .put_back("phones.p1.value", "+33 6", at(4))
        .unwrap_err();
    assert!(
        matches!(&err, DocError::Invalid(errors) if errors.for_field("phones.p1.value").unwrap().contains("no longer")),
        "{err}"
    );
    // Clearing the name would leave a customer with neither name nor company.
    let err = phone.put_back("name", "", at(5)).unwrap_err();
    assert!(matches!(err, DocError::Invalid(_)), "{err}");
    let err = phone.put_back("stage", "bogus", at(6)).unwrap_err();
    assert!(matches!(err, DocError::Invalid(_)), "{err}");
    assert_eq!(phone.customer().name, "Zoë Dupont");
}

/// Random work on two devices, merged now and then: the history lists every change of the
/// document once, with words, in the same order on both devices, and never fails.
mod random_work {
    use super::*;
    use proptest::prelude::*;

    /// One edit, on the phone (`false`) or the tablet (`true`), or a merge both ways.
    #[derive(Debug, Clone)]
    enum Step {
        Edit(bool, u8, u8),
        Merge,
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            6 => (any::<bool>(), 0u8..10, any::<u8>()).prop_map(|(tablet, kind, n)| Step::Edit(tablet, kind, n)),
            1 => Just(Step::Merge),
        ]
    }

    fn edit(customer: &mut Customer, kind: u8, n: u8) {
        let stages = LifecycleStage::ALL;
        match kind {
            0 => customer.company = format!("Company {n}"),
            1 => customer.stage = stages[usize::from(n) % stages.len()],
            2 => {
                customer.address.city = if n.is_multiple_of(3) {
                    String::new()
                } else {
                    format!("City {n}")
                }
            }
            3 => customer.phones.push(ContactPoint {
                id: ContactPointId(format!("p{n}")),
                label: "mobile".into(),
                value: format!("+43 664 {n:07}"),
            }),
            4 => {
                if !customer.phones.is_empty() {
                    let at = usize::from(n) % customer.phones.len();
                    customer.phones.remove(at);
                }
            }
            5 => {
                if !customer.tags.insert(&format!("tag{}", n % 4)) {
                    customer.tags.remove(&format!("tag{}", n % 4));
                }
            }
            6 => customer
                .notes
                .update(format!("Note {n}: {}", "x".repeat(usize::from(n % 7)))),
            7 => {
                customer.activities.insert(
                    format!("a{n}"),
                    Activity::new(ActivityKind::Visit, at(i64::from(n)), "Phone"),
                );
            }
            8 => {
                let first = customer.activities.keys().next().cloned();
                if let Some(id) = first {
                    customer.activities.remove(&id);
                }
            }
            _ => {
                if let Some(phone) = customer.phones.first_mut() {
                    phone.label = format!("label {n}");
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        #[test]
        fn every_change_once_in_the_same_order_on_both_devices(steps in proptest::collection::vec(step(), 1..40)) {
            let (mut phone, mut tablet) = two_devices();
            let mut minute = 0;
            for step in steps {
                minute += 1;
                match step {
                    Step::Edit(on_tablet, kind, n) => {
                        let device = if on_tablet { &mut tablet } else { &mut phone };
                        // An edit that breaks no rule and changes something is one change.
                        let _ = device.update(at(minute), |c| edit(c, kind, n));
                    }
                    Step::Merge => {
                        phone.merge(&mut tablet).unwrap();
                        tablet.merge(&mut phone).unwrap();
                    }
                }
            }
            phone.merge(&mut tablet).unwrap();
            tablet.merge(&mut phone).unwrap();
            let on_phone = phone.history(&pipeline());
            let on_tablet = tablet.history(&pipeline());
            let changes = phone.save();
            let n_changes = automerge::Automerge::load(&changes).unwrap().get_changes(&[]).len();
            prop_assert_eq!(on_phone.len(), n_changes);
            let hashes = |history: &[HistoryEntry]| history.iter().map(|e| e.change.clone()).collect::<Vec<_>>();
            prop_assert_eq!(hashes(&on_phone), hashes(&on_tablet));
            for (a, b) in on_phone.iter().zip(&on_tablet) {
                prop_assert_eq!(&a.lines, &b.lines);
            }
            for entry in &on_phone {
                prop_assert!(!entry.lines.is_empty(), "a change without words: {:?}", entry);
            }
        }
    }
}

/// Every string the operations of every change of `bytes` (a saved document) write, run
/// together (text is written a character per operation, so a note reads whole).
fn every_value_written(bytes: &[u8]) -> String {
    let doc = automerge::Automerge::load(bytes).unwrap();
    let mut written = String::new();
    for change in doc.get_changes(&[]) {
        for op in change.decode().operations {
            if let automerge::legacy::OpType::Put(automerge::ScalarValue::Str(text)) = op.action {
                written.push_str(&text);
            }
        }
    }
    written
}

#[test]
fn erasing_keeps_the_customer_as_it_is_now_in_a_new_document_without_any_earlier_value() {
    let (mut phone, mut tablet) = two_devices();
    phone
        .update(at(5), |c| {
            c.emails = vec![ContactPoint {
                id: ContactPointId("e1".into()),
                label: "work".into(),
                value: "zoe@old-employer.example".into(),
            }];
            c.notes.update("Lives at 12 Rue Secrète.");
            c.company = "Old Employer SA".into();
        })
        .unwrap();
    tablet
        .update(at(6), |c| c.address.city = "Lyon".into())
        .unwrap();
    phone.merge(&mut tablet).unwrap();
    // She asked for her old details to go: the rep edits them away, then erases.
    phone
        .update(at(30), |c| {
            c.emails[0].value = "zoe@new.example".into();
            c.notes.update("Prefers email.");
            c.company = "Nouvelle Fromagerie".into();
        })
        .unwrap();
    let old = every_value_written(&phone.save());
    for value in ["zoe@old-employer.example", "Secrète", "Old Employer SA"] {
        assert!(old.contains(value), "the test's needle {value}");
    }

    let new_id: CustomerId = "0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b".parse().unwrap();
    let (bytes, summary, _) = phone
        .recreate(new_id.clone(), actor(1), Some("Chrome on Android"), at(40))
        .unwrap();
    let written = every_value_written(&bytes);
    for value in [
        "zoe@old-employer.example",
        "Secrète",
        "Old Employer SA",
        "Fromagerie Lyonnaise",
    ] {
        assert!(!written.contains(value), "{value} survived the erasure");
    }
    for value in [
        "zoe@new.example",
        "Prefers email.",
        "Nouvelle Fromagerie",
        "Lyon",
    ] {
        assert!(written.contains(value), "{value} is kept");
    }
    // The customer as she is now, under the new id, with one change of history.
    let mut recreated = CustomerDoc::from_remote(&bytes, actor(3)).unwrap();
    let mut expected = phone.customer().clone();
    expected.id = new_id;
    let kept = recreated.customer();
    assert_eq!(
        (
            &kept.name,
            &kept.company,
            &kept.emails,
            &kept.address.city,
            kept.notes.as_str()
        ),
        (
            &expected.name,
            &expected.company,
            &expected.emails,
            &expected.address.city,
            expected.notes.as_str()
        )
    );
    assert_eq!(kept.created_at, T0, "still added when she was");
    assert_eq!(summary.id, expected.id);
    let history = recreated.history(&pipeline());
    assert_eq!(lines(&history), ["Chrome on Android | Added as Lead"]);
}

#[test]
fn custom_field_changes_are_lines_of_their_field_and_can_be_put_back() {
    let (mut phone, _) = two_devices();
    phone
        .update(at(1), |c| {
            c.custom.insert("f-fleet".into(), "7".into());
        })
        .unwrap();
    phone
        .update(at(2), |c| {
            c.custom.insert("f-fleet".into(), "12".into());
            c.custom_sets
                .insert("f-interests".into(), ["c-tea"].into_iter().collect());
        })
        .unwrap();
    phone
        .update(at(3), |c| {
            if let Some(set) = c.custom_sets.get_mut("f-interests") {
                set.remove("c-tea");
            }
        })
        .unwrap();
    let history = phone.history(&pipeline());
    let words = lines(&history);
    // Named by id here: the screens put the field's name and the choice's label.
    assert_eq!(words[0], "Chrome on Android | custom.f-interests − c-tea");
    assert_eq!(
        words[1],
        "Chrome on Android | custom.f-fleet: 7 → 12; custom.f-interests + c-tea"
    );
    assert_eq!(words[2], "Chrome on Android | custom.f-fleet: 7");
    let values = field_history(&history, "custom.f-fleet");
    let shown: Vec<&str> = values.iter().map(|v| v.value.as_str()).collect();
    assert_eq!(shown, ["12", "7"]);
    assert!(phone.put_back("custom.f-fleet", "7", at(4)).unwrap());
    assert_eq!(phone.customer().custom["f-fleet"], "7");
}
