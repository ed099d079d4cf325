//! Customer documents: schema round trips, storage chunks and merges between devices.

use automerge::ActorId;
use shared::{
    Address, Birthday, Channel, ContactPoint, ContactPointId, Customer, CustomerDoc, CustomerId,
    DocError, LifecycleStage, TagSet, Timestamp,
};

const T0: Timestamp = Timestamp(1_795_341_600_000);

fn actor(n: u8) -> ActorId {
    ActorId::from(vec![n; 16])
}

fn full_customer() -> Customer {
    let id: CustomerId = "7d5b1c9e-3f0a-4c55-8e21-0a9b8c7d6e5f".parse().unwrap();
    let mut customer = Customer::new(id, T0);
    customer.name = "Zoë Dupont".into();
    customer.company = "Fromagerie Lyonnaise".into();
    customer.job_title = "Buyer".into();
    customer.emails = vec![ContactPoint {
        id: ContactPointId("e1".into()),
        label: "work".into(),
        value: "zoe@fromagerie.example".into(),
    }];
    customer.phones = vec![
        ContactPoint {
            id: ContactPointId("p1".into()),
            label: "mobile".into(),
            value: "+33 6 12 34 56 78".into(),
        },
        ContactPoint {
            id: ContactPointId("p2".into()),
            label: "office".into(),
            value: "04 78 00 00 00".into(),
        },
    ];
    customer.address = Address {
        street: "12 rue de la Paix".into(),
        city: "Lyon".into(),
        postal_code: "69002".into(),
        region: "Rhône".into(),
        country: "France".into(),
    };
    customer.stage = LifecycleStage::Loyal;
    customer.tags = ["vip", "salon-2026"].into_iter().collect::<TagSet>();
    customer.preferred_channel = Some(Channel::InPerson);
    customer.birthday = Birthday::parse("1984-02-29");
    customer.notes = autosurgeon::Text::with_value("Prefers morning visits.");
    customer.owner = "Camille".into();
    customer
}

#[test]
fn hydrate_of_reconcile_is_identity() {
    let customer = full_customer();
    let mut doc = automerge::AutoCommit::new();
    autosurgeon::reconcile(&mut doc, &customer).unwrap();
    let hydrated: Customer = autosurgeon::hydrate(&doc).unwrap();
    assert_eq!(hydrated, customer);

    // And through bytes, as storage does.
    let bytes = doc.save();
    let loaded = CustomerDoc::load(&customer.id, &bytes, actor(1)).unwrap();
    assert_eq!(loaded.customer(), &customer);
}

#[test]
fn empty_optional_fields_round_trip() {
    let mut customer = Customer::new("c-min".parse().unwrap(), T0);
    customer.company = "Only a company".into();
    let mut doc = CustomerDoc::create(customer.clone(), actor(1), T0).unwrap();
    let loaded = CustomerDoc::load(&customer.id, &doc.save(), actor(1)).unwrap();
    assert_eq!(loaded.customer(), doc.customer());
    assert_eq!(loaded.customer().name, "");
    assert_eq!(loaded.customer().birthday, None);
}

#[test]
fn stage_changes_are_recorded_at_creation_and_on_every_move() {
    let mut customer = Customer::new("c-stage".parse().unwrap(), T0);
    customer.name = "Ada".into();
    customer.stage = LifecycleStage::Lead;
    let mut doc = CustomerDoc::create(customer, actor(1), T0).unwrap();
    let t1 = Timestamp(T0.0 + 1000);
    doc.update(t1, |c| c.name = "Ada L.".into()).unwrap();
    let t2 = Timestamp(T0.0 + 2000);
    doc.update(t2, |c| c.stage = LifecycleStage::Customer)
        .unwrap();
    let history: Vec<_> = doc
        .customer()
        .stage_history()
        .into_iter()
        .map(|change| (change.from, change.to, change.at))
        .collect();
    assert_eq!(
        history,
        [
            (None, LifecycleStage::Lead, T0),
            (Some(LifecycleStage::Lead), LifecycleStage::Customer, t2)
        ]
    );

    // Two devices moving the stage offline: both moves are kept, the stage is one of them.
    let mut other = doc.fork(actor(2));
    let t3 = Timestamp(T0.0 + 3000);
    doc.update(t3, |c| c.stage = LifecycleStage::Loyal).unwrap();
    other
        .update(t3, |c| c.stage = LifecycleStage::Churned)
        .unwrap();
    doc.merge(&mut other).unwrap();
    let customer = doc.customer();
    assert_eq!(customer.stage_changes.len(), 4);
    assert!(customer
        .stage_history()
        .iter()
        .any(|change| change.to == customer.stage && change.at == t3));
}

#[test]
fn snapshot_plus_incremental_chunks_load_as_one_document() {
    let mut doc = CustomerDoc::create(full_customer(), actor(1), T0).unwrap();
    let mut stored = doc.save();
    for (edit_idx, job) in ["Head buyer", "Purchasing director", "CEO"]
        .iter()
        .enumerate()
    {
        let now = Timestamp(T0.0 + 1000 * (edit_idx as i64 + 1));
        assert!(doc.update(now, |c| c.job_title = job.to_string()).unwrap());
        stored.extend(doc.save_incremental());
    }
    let loaded = CustomerDoc::load(&doc.customer().id, &stored, actor(2)).unwrap();
    assert_eq!(loaded.customer().job_title, "CEO");
    assert_eq!(loaded.customer().updated_at, Timestamp(T0.0 + 3000));
    assert_eq!(loaded.customer(), doc.customer());
}

#[test]
fn entries_applied_at_load_equal_entries_applied_one_by_one() {
    let mut phone = CustomerDoc::create(full_customer(), actor(1), T0).unwrap();
    let stored = phone.save();
    let mut changes = Vec::new();
    for (edit_idx, job) in ["Head buyer", "CEO"].iter().enumerate() {
        let now = Timestamp(T0.0 + 1000 * (edit_idx as i64 + 1));
        assert!(phone
            .update(now, |c| c.job_title = job.to_string())
            .unwrap());
        changes.push(phone.last_local_change().unwrap());
    }
    let id = phone.customer().id.clone();
    let mut one_by_one = CustomerDoc::load(&id, &stored, actor(2)).unwrap();
    for change in &changes {
        assert!(one_by_one.apply_remote(change).unwrap());
    }
    let (at_load, changed) =
        CustomerDoc::load_and_apply(&id, &stored, changes.iter().map(Vec::as_slice), actor(2))
            .unwrap();
    assert!(changed);
    assert_eq!(at_load.customer(), one_by_one.customer());
    assert_eq!(at_load.customer().job_title, "CEO");
    // Entries it already holds change nothing; an entry whose predecessor is missing is
    // refused.
    let (_, changed) = CustomerDoc::load_and_apply(
        &id,
        &phone.save(),
        changes.iter().map(Vec::as_slice),
        actor(2),
    )
    .unwrap();
    assert!(!changed);
    assert!(matches!(
        CustomerDoc::load_and_apply(&id, &stored, [changes[1].as_slice()], actor(2)),
        Err(DocError::MissingDependencies(_))
    ));
}

#[test]
fn no_op_edit_creates_no_change() {
    let mut doc = CustomerDoc::create(full_customer(), actor(1), T0).unwrap();
    doc.save();
    assert!(!doc
        .update(Timestamp(T0.0 + 1), |c| c.name = "Zoë Dupont".into())
        .unwrap());
    assert!(doc.save_incremental().is_empty());
}

#[test]
fn invalid_edit_changes_nothing() {
    let mut doc = CustomerDoc::create(full_customer(), actor(1), T0).unwrap();
    let before = doc.customer().clone();
    let heads_before = doc.heads();
    let result = doc.update(Timestamp(T0.0 + 1), |c| {
        c.name.clear();
        c.company.clear();
    });
    match result {
        Err(DocError::Invalid(errors)) => {
            assert_eq!(errors.for_field("name"), Some("enter a name or a company"))
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
    assert_eq!(doc.customer(), &before);
    assert_eq!(doc.heads(), heads_before);
}

#[test]
fn loading_under_the_wrong_id_is_refused() {
    let mut doc = CustomerDoc::create(full_customer(), actor(1), T0).unwrap();
    let other: CustomerId = "someone-else".parse().unwrap();
    assert!(matches!(
        CustomerDoc::load(&other, &doc.save(), actor(1)),
        Err(DocError::WrongCustomer { .. })
    ));
    assert!(matches!(
        CustomerDoc::load(&other, b"not automerge", actor(1)),
        Err(DocError::Corrupt(_))
    ));
}

#[test]
fn concurrent_edits_of_different_fields_both_survive_a_merge() {
    let mut phone = CustomerDoc::create(full_customer(), actor(1), T0).unwrap();
    let mut tablet = phone.fork(actor(2));

    phone
        .update(Timestamp(T0.0 + 10), |c| c.job_title = "Head buyer".into())
        .unwrap();
    tablet
        .update(Timestamp(T0.0 + 20), |c| {
            c.address.city = "Villeurbanne".into();
            c.tags.insert("key-account");
            c.phones.push(ContactPoint {
                id: ContactPointId("p3".into()),
                label: "home".into(),
                value: "+33 4 00 00 00 01".into(),
            });
        })
        .unwrap();
    phone
        .update(Timestamp(T0.0 + 30), |c| {
            c.tags.remove("salon-2026");
            c.phones.retain(|p| p.id.0 != "p2");
        })
        .unwrap();

    phone.merge(&mut tablet).unwrap();
    tablet.merge(&mut phone).unwrap();
    assert_eq!(phone.customer(), tablet.customer(), "both devices converge");

    let merged = phone.customer();
    assert_eq!(merged.job_title, "Head buyer");
    assert_eq!(merged.address.city, "Villeurbanne");
    assert_eq!(merged.address.street, "12 rue de la Paix");
    assert_eq!(
        merged.tags.iter().collect::<Vec<_>>(),
        ["key-account", "vip"]
    );
    let phones: Vec<&str> = merged.phones.iter().map(|p| p.id.0.as_str()).collect();
    assert_eq!(phones, ["p1", "p3"]);
}

#[test]
fn list_items_added_on_two_devices_are_both_kept() {
    let mut phone = CustomerDoc::create(full_customer(), actor(1), T0).unwrap();
    let mut tablet = phone.fork(actor(2));
    let email = |id: &str, value: &str| ContactPoint {
        id: ContactPointId(id.into()),
        label: "work".into(),
        value: value.into(),
    };
    phone
        .update(Timestamp(T0.0 + 1), |c| {
            c.emails.push(email("e-phone", "phone@example.com"));
            c.tags.insert("met-at-salon");
        })
        .unwrap();
    tablet
        .update(Timestamp(T0.0 + 2), |c| {
            c.emails.push(email("e-tablet", "tablet@example.com"));
            c.tags.insert("follow-up");
        })
        .unwrap();
    phone.merge(&mut tablet).unwrap();
    tablet.merge(&mut phone).unwrap();
    assert_eq!(phone.customer(), tablet.customer());
    let mut emails: Vec<&str> = phone
        .customer()
        .emails
        .iter()
        .map(|e| e.value.as_str())
        .collect();
    emails.sort();
    assert_eq!(emails.len(), 3, "{emails:?}");
    assert!(emails.contains(&"phone@example.com") && emails.contains(&"tablet@example.com"));
    let tags: Vec<&str> = phone.customer().tags.iter().collect();
    assert!(
        tags.contains(&"met-at-salon") && tags.contains(&"follow-up"),
        "{tags:?}"
    );
    assert!(phone.conflicts().is_empty(), "additions are not conflicts");
}

#[test]
fn concurrent_note_edits_interleave() {
    let mut phone = CustomerDoc::create(full_customer(), actor(1), T0).unwrap();
    let mut tablet = phone.fork(actor(2));
    phone
        .update(Timestamp(T0.0 + 1), |c| {
            c.notes.update("Prefers morning visits. Allergic to nuts.")
        })
        .unwrap();
    tablet
        .update(Timestamp(T0.0 + 2), |c| {
            c.notes.update("Call first. Prefers morning visits.")
        })
        .unwrap();
    phone.merge(&mut tablet).unwrap();
    assert_eq!(
        phone.customer().notes.as_str(),
        "Call first. Prefers morning visits. Allergic to nuts."
    );
}

#[test]
fn a_field_edited_on_two_devices_is_shown_with_both_values_and_the_choice_syncs() {
    let mut phone = CustomerDoc::create(full_customer(), actor(1), T0).unwrap();
    phone.set_author(Some("Phone".into()));
    let mut tablet = phone.fork(actor(2));
    tablet.set_author(Some("Tablet".into()));
    assert!(phone.conflicts().is_empty());

    phone
        .update(Timestamp(T0.0 + 60_000), |c| {
            c.company = "Fromagerie du Rhône".into();
            c.address.city = "Villeurbanne".into();
        })
        .unwrap();
    tablet
        .update(Timestamp(T0.0 + 120_000), |c| {
            c.company = "Fromagerie Lyonnaise SA".into();
            c.job_title = "Head buyer".into();
        })
        .unwrap();
    phone.merge(&mut tablet).unwrap();
    tablet.merge(&mut phone).unwrap();

    // Different fields merged silently; the same field is a conflict on both devices.
    assert_eq!(phone.customer().address.city, "Villeurbanne");
    assert_eq!(phone.customer().job_title, "Head buyer");
    let conflicts = phone.conflicts();
    let fields: Vec<&str> = conflicts.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(fields, ["company"], "{conflicts:#?}");
    let company = &conflicts[0];
    assert_eq!(company.values.len(), 2);
    assert!(company.values[0].kept);
    assert_eq!(company.values[0].display, phone.customer().company);
    let mut authors: Vec<_> = company
        .values
        .iter()
        .map(|v| v.author.clone().unwrap())
        .collect();
    authors.sort();
    assert_eq!(authors, ["Phone", "Tablet"]);
    let by_phone = company
        .values
        .iter()
        .find(|v| v.author.as_deref() == Some("Phone"))
        .unwrap();
    assert!(by_phone.this_device);
    assert_eq!(by_phone.time, Timestamp(T0.0 + 60_000));
    assert_eq!(tablet.conflicts(), {
        // The same conflict, seen from the other device (only "this device" differs).
        let mut mirrored = conflicts.clone();
        for value in &mut mirrored[0].values {
            value.this_device = !value.this_device;
        }
        mirrored
    });

    // The rep keeps the value that lost, on the tablet; the phone gets the choice by sync.
    let loser = company.values.iter().find(|v| !v.kept).unwrap().clone();
    tablet
        .resolve_conflict("company", &loser.op, Timestamp(T0.0 + 180_000))
        .unwrap();
    assert_eq!(tablet.customer().company, loser.display);
    assert!(tablet.conflicts().is_empty());
    phone.merge(&mut tablet).unwrap();
    assert_eq!(phone.customer().company, loser.display);
    assert!(phone.conflicts().is_empty());
    // Choosing again is refused rather than silently doing something else.
    assert!(matches!(
        phone.resolve_conflict("company", &loser.op, Timestamp(T0.0 + 200_000)),
        Err(DocError::NoSuchConflict)
    ));
}

#[test]
fn conflicts_in_contact_points_and_dates_are_found_and_resolved() {
    let mut a = CustomerDoc::create(full_customer(), actor(1), T0).unwrap();
    let mut b = a.fork(actor(2));
    a.update(Timestamp(T0.0 + 1000), |c| {
        c.phones[0].value = "+33 6 00 00 00 01".into();
        c.birthday = Birthday::parse("1980-01-02");
        c.stage = LifecycleStage::Advocate;
    })
    .unwrap();
    b.update(Timestamp(T0.0 + 2000), |c| {
        c.phones[0].value = "+33 6 00 00 00 02".into();
        // The other device knows only the day.
        c.birthday = Birthday::parse("--03-04");
        c.stage = LifecycleStage::Churned;
    })
    .unwrap();
    a.merge(&mut b).unwrap();
    let conflicts = a.conflicts();
    let fields: Vec<&str> = conflicts.iter().map(|c| c.field.as_str()).collect();
    assert!(fields.contains(&"phones.p1.value"), "{fields:?}");
    assert!(fields.contains(&"stage"), "{fields:?}");
    let stage = conflicts.iter().find(|c| c.field == "stage").unwrap();
    let mut shown: Vec<&str> = stage.values.iter().map(|v| v.display.as_str()).collect();
    shown.sort();
    assert_eq!(shown, ["Advocate", "Churned"]);
    {
        let birthday = conflicts.iter().find(|c| c.field == "birthday").unwrap();
        // Both dates are readable, and keeping the other one works.
        let mut dates: Vec<&str> = birthday.values.iter().map(|v| v.display.as_str()).collect();
        dates.sort();
        assert_eq!(dates, ["03-04 (year unknown)", "1980-01-02"]);
        let other = birthday.values.iter().find(|v| !v.kept).unwrap().clone();
        a.resolve_conflict("birthday", &other.op, Timestamp(T0.0 + 3000))
            .unwrap();
        assert_eq!(a.customer().birthday.unwrap().describe(), other.display);
    }
    for conflict in a.conflicts() {
        let keep = conflict.values[0].op.clone();
        a.resolve_conflict(&conflict.field, &keep, Timestamp(T0.0 + 4000))
            .unwrap();
    }
    assert!(a.conflicts().is_empty());
}

#[test]
fn notes_edited_after_non_ascii_characters_are_stored_intact() {
    let id: CustomerId = "7d5b1c9e-3f0a-4c55-8e21-0a9b8c7d6e5f".parse().unwrap();
    let mut customer = Customer::new(id, T0);
    customer.name = "Amélie Novak".into();
    customer.notes = autosurgeon::Text::with_value("");
    let mut doc = CustomerDoc::create(customer, actor(1), T0).unwrap();
    doc.update(Timestamp(T0.0 + 1), |c| {
        c.tags.insert("Salon Lyon 2026");
        let notes = c.notes.as_str().trim_end().to_string();
        let line = "2026-11-23 · Salon Lyon 2026: Asked for the new vintage".to_string();
        let joined = if notes.is_empty() {
            line
        } else {
            format!("{notes}\n{line}")
        };
        c.notes.update(joined);
    })
    .unwrap();
    assert!(doc.customer().notes.as_str().contains("vintage"));
}

fn call(at: i64, summary: &str, author: &str) -> shared::model::records::Activity {
    let mut call = shared::model::records::Activity::new(
        shared::model::records::ActivityKind::Call,
        Timestamp(T0.0 + at),
        author,
    );
    call.summary = summary.into();
    call
}

#[test]
fn activities_logged_on_two_devices_at_once_are_all_kept() {
    let mut phone = CustomerDoc::create(full_customer(), actor(1), T0).unwrap();
    let mut tablet = phone.fork(actor(2));
    phone
        .update(Timestamp(T0.0 + 10), |c| {
            c.activities.insert(
                "a-phone".into(),
                call(10, "Called about the order", "phone"),
            );
        })
        .unwrap();
    tablet
        .update(Timestamp(T0.0 + 20), |c| {
            c.activities
                .insert("a-tablet".into(), call(20, "Visited the shop", "tablet"));
        })
        .unwrap();
    phone.merge(&mut tablet).unwrap();
    tablet.merge(&mut phone).unwrap();
    assert_eq!(phone.customer(), tablet.customer());
    let timeline: Vec<&str> = phone
        .customer()
        .timeline()
        .into_iter()
        .map(|(_, activity)| activity.summary.as_str())
        .collect();
    assert_eq!(timeline, ["Visited the shop", "Called about the order"]);
    assert_eq!(phone.customer().last_contact(), Some(Timestamp(T0.0 + 20)));
}

#[test]
fn a_complaint_edited_on_two_devices_keeps_both_edits() {
    use shared::model::records::{Activity, ActivityKind, ComplaintStatus};
    let mut phone = CustomerDoc::create(full_customer(), actor(1), T0).unwrap();
    phone
        .update(T0, |c| {
            let mut complaint = Activity::new(ActivityKind::Complaint, T0, "phone");
            complaint.summary = "Late delivery".into();
            c.activities.insert("c1".into(), complaint);
        })
        .unwrap();
    let mut tablet = phone.fork(actor(2));
    phone
        .update(Timestamp(T0.0 + 60_000), |c| {
            let complaint = c.activities.get_mut("c1").unwrap();
            if let Some(progress) = complaint.complaint.as_mut() {
                progress.set_status(ComplaintStatus::InProgress, Timestamp(T0.0 + 60_000));
            }
        })
        .unwrap();
    tablet
        .update(Timestamp(T0.0 + 70_000), |c| {
            c.activities.get_mut("c1").unwrap().outcome = "refund offered".into();
        })
        .unwrap();
    phone.merge(&mut tablet).unwrap();
    let complaint = &phone.customer().activities["c1"];
    assert_eq!(complaint.outcome, "refund offered");
    let progress = complaint.complaint.as_ref().unwrap();
    assert_eq!(progress.status, ComplaintStatus::InProgress);
    assert_eq!(progress.first_response_ms(complaint.at), Some(60_000));
}

#[test]
fn documents_written_before_records_existed_still_load() {
    // A document holding only the first release's fields (no activities, tasks, …).
    let customer = full_customer();
    let mut doc = automerge::AutoCommit::new();
    autosurgeon::reconcile(&mut doc, &customer).unwrap();
    for key in [
        "activities",
        "tasks",
        "feedback",
        "purchases",
        "deals",
        "check_in_days",
        "stage_changes",
    ] {
        automerge::transaction::Transactable::delete(&mut doc, automerge::ROOT, key).unwrap();
    }
    let bytes = doc.save();
    let loaded = CustomerDoc::load(&customer.id, &bytes, actor(3)).unwrap();
    assert!(loaded.customer().activities.is_empty());
    assert_eq!(loaded.customer().check_in_days, None);
}

#[test]
fn a_bulk_created_snapshot_loads_as_the_same_customer_and_summary() {
    let customer = full_customer();
    let (bytes, summary, facts) =
        CustomerDoc::create_snapshot(customer.clone(), actor(1), Some("phone"), T0).unwrap();
    let mut loaded = CustomerDoc::load(&customer.id, &bytes, actor(2)).unwrap();
    let mut expected = customer.clone();
    expected.stage_changes = loaded.customer().stage_changes.clone();
    assert_eq!(loaded.customer(), &expected);
    assert_eq!(loaded.customer().stage_changes.len(), 1);
    assert_eq!(loaded.summary(), summary);
    assert_eq!(loaded.facts(), facts);
    // Invalid customers create nothing.
    let mut invalid = full_customer();
    invalid.name.clear();
    invalid.company.clear();
    assert!(CustomerDoc::create_snapshot(invalid, actor(1), None, T0).is_err());
}

/// The screens edit a plain copy of the customer and send it back with the version they
/// read (`CustomerDoc::update_to`); what arrived meanwhile must survive.
#[test]
fn an_edit_made_on_an_older_version_keeps_what_arrived_meanwhile() {
    let mut doc = CustomerDoc::create(full_customer(), actor(1), T0).unwrap();
    let read_version = doc.version();
    let mut on_screen = doc.customer().clone();
    // Meanwhile another device changes the company and the notes.
    let mut other = doc.fork(actor(2));
    other
        .update(Timestamp(T0.0 + 1_000), |c| {
            c.company = "Fromagerie Moderne".into();
            c.notes.update("Prefers morning visits. Closed Mondays.");
        })
        .unwrap();
    let change = other.last_local_change().unwrap();
    doc.apply_remote(&change).unwrap();
    // The screen changes the job title and the notes' first word, from what it read.
    on_screen.job_title = "Head buyer".into();
    on_screen.set_notes("Likes morning visits.");
    let changed = doc
        .update_to(&read_version, on_screen, Timestamp(T0.0 + 2_000))
        .unwrap();
    assert!(changed);
    let customer = doc.customer();
    assert_eq!(customer.job_title, "Head buyer");
    assert_eq!(
        customer.company, "Fromagerie Moderne",
        "the remote edit is kept"
    );
    assert_eq!(
        customer.notes.as_str(),
        "Likes morning visits. Closed Mondays."
    );
    // The change to push is the screen's edit, and a third copy applies it.
    let pushed = doc
        .last_local_change()
        .expect("the edit is the last local change");
    other.apply_remote(&pushed).unwrap();
    assert_eq!(other.customer(), doc.customer());
}

#[test]
fn an_edit_on_the_current_version_is_written_by_the_device_itself() {
    let mut doc = CustomerDoc::create(full_customer(), actor(1), T0).unwrap();
    let version = doc.version();
    let mut on_screen = doc.customer().clone();
    on_screen.owner = "Léa".into();
    assert!(doc
        .update_to(&version, on_screen.clone(), Timestamp(T0.0 + 1))
        .unwrap());
    assert_eq!(doc.customer().owner, "Léa");
    // Sending the same state again changes nothing.
    let version = doc.version();
    let again = doc.customer().clone();
    assert!(!doc.update_to(&version, again, Timestamp(T0.0 + 2)).unwrap());
    // An invalid edit is refused from any version and changes nothing.
    let mut invalid = doc.customer().clone();
    invalid.name.clear();
    invalid.company.clear();
    let before = doc.customer().clone();
    assert!(matches!(
        doc.update_to(&shared::Version::default(), invalid, Timestamp(T0.0 + 3)),
        Err(DocError::Invalid(_))
    ));
    assert_eq!(doc.customer(), &before);
}

#[test]
fn notes_written_from_a_plain_copy_are_stored() {
    let mut customer = full_customer();
    customer.set_notes("");
    let mut doc = CustomerDoc::create(customer, actor(1), T0).unwrap();
    for text in ["Prefers morning visits.", "Prefers evening visits.", ""] {
        let version = doc.version();
        let mut on_screen = doc.customer().clone();
        on_screen.set_notes(text);
        // The copy travels to the engine as bytes, as a screen's edit does.
        let on_screen: Customer = shared::sync::engine_protocol::decode(
            &shared::sync::engine_protocol::encode(&on_screen),
        )
        .unwrap();
        assert!(doc
            .update_to(&version, on_screen, Timestamp(T0.0 + 1))
            .unwrap());
        assert_eq!(doc.customer().notes.as_str(), text);
        let saved = doc.save();
        let loaded = CustomerDoc::load(&doc.customer().id, &saved, actor(1)).unwrap();
        assert_eq!(loaded.customer().notes.as_str(), text);
    }
}

#[test]
fn a_crafted_change_from_another_device_is_refused_not_a_crash() {
    // The change the relay_session fuzz target found: one change chunk of an actor this
    // document has never seen, with a sequence number above 1 and no dependencies. It is a
    // well-formed change (the relay, which has no document, stores it), and automerge 0.12.0
    // panicked applying it — in the app's wasm, an abort of the engine on every device of
    // the space, at every start.
    let input =
        include_bytes!("../../fuzz/corpus/blob_validate/regression-change-from-unknown-actor");
    // As found it carries 16 trailing bytes, which the relay refuses; an attacker drops
    // them and writes the chunk's length and checksum again (the first 4 bytes of the
    // SHA-256 of the chunk's type, length and body).
    let found = &input[1..];
    assert_eq!((found[8], found[9]), (1, 38), "a change chunk of 38 bytes");
    let body = &found[10..found.len() - 16];
    let mut hashed = vec![1u8, body.len() as u8];
    hashed.extend_from_slice(body);
    let checksum = <sha2::Sha256 as sha2::Digest>::digest(&hashed);
    let mut forged = found[..4].to_vec();
    forged.extend_from_slice(&checksum[..4]);
    forged.extend_from_slice(&hashed);
    let crafted = forged.as_slice();
    let upload = shared::sync::protocol::Upload {
        document: shared::sync::protocol::DocumentId("c-1".into()),
        kind: shared::sync::protocol::BlobKind::Change,
        bytes: crafted.to_vec(),
    };
    let v = shared::sync::blob::validate(upload, 1 << 20);
    assert!(v.is_ok(), "the relay cannot tell: {v:?}");

    let mut doc = CustomerDoc::create(full_customer(), actor(1), T0).unwrap();
    let before = doc.save();
    let err = doc.apply_remote(crafted).unwrap_err();
    assert!(
        matches!(
            err,
            DocError::Refused(shared::sync::blob::ChangeRefused::UnknownActor)
        ),
        "{err}"
    );
    assert_eq!(doc.save(), before, "nothing of it applied");
    assert!(CustomerDoc::from_remote(crafted, actor(2)).is_err());
    assert!(
        CustomerDoc::load_and_apply(&full_customer().id, &before, [crafted], actor(2)).is_err()
    );

    // Honest changes from devices, in the order of their history, still apply: another
    // device's first change and its next one, and a third device's change naming both.
    let mut other = doc.fork(actor(2));
    other
        .update(Timestamp(T0.0 + 1_000), |c| c.company = "A".into())
        .unwrap();
    let first = other.last_local_change().unwrap();
    other
        .update(Timestamp(T0.0 + 2_000), |c| c.company = "B".into())
        .unwrap();
    let second = other.last_local_change().unwrap();
    let mut third = other.fork(actor(3));
    third
        .update(Timestamp(T0.0 + 3_000), |c| c.company = "C".into())
        .unwrap();
    let last = third.last_local_change().unwrap();
    assert!(doc
        .apply_remote_all([first.as_slice(), second.as_slice(), last.as_slice()])
        .unwrap());
    assert_eq!(doc.customer().company, "C");
    // Out of order: the second before the first is missing a dependency, as before.
    let mut fresh = CustomerDoc::load(&full_customer().id, &before, actor(4)).unwrap();
    assert!(matches!(
        fresh.apply_remote(&second),
        Err(DocError::MissingDependencies(1))
    ));
}

/// A customer as a build before custom fields saved it: no `custom` or `custom_sets` map.
fn customer_from_before_custom_fields() -> CustomerDoc {
    let customer = full_customer();
    let mut doc = automerge::AutoCommit::new();
    autosurgeon::reconcile(&mut doc, &customer).unwrap();
    for key in ["custom", "custom_sets"] {
        automerge::transaction::Transactable::delete(&mut doc, automerge::ROOT, key).unwrap();
    }
    CustomerDoc::load(&customer.id, &doc.save(), actor(1)).unwrap()
}

#[test]
fn custom_values_filled_on_two_devices_are_all_kept_even_on_an_older_customer() {
    let mut phone = customer_from_before_custom_fields();
    assert!(phone.customer().custom.is_empty());
    let mut tablet = phone.fork(actor(2));
    // Offline, each device gives the customer its first custom values: each makes the
    // `custom` map (and the phone the `custom_sets` one).
    phone
        .update(Timestamp(T0.0 + 10), |c| {
            c.custom.insert("f-industry".into(), "Retail".into());
            c.custom_sets.insert(
                "f-interests".into(),
                ["ch-coffee"].into_iter().collect::<TagSet>(),
            );
        })
        .unwrap();
    tablet
        .update(Timestamp(T0.0 + 20), |c| {
            c.custom.insert("f-fleet".into(), "12".into());
            c.custom_sets.insert(
                "f-interests".into(),
                ["ch-tea"].into_iter().collect::<TagSet>(),
            );
        })
        .unwrap();
    phone.merge(&mut tablet).unwrap();
    tablet.merge(&mut phone).unwrap();
    assert_eq!(phone.customer(), tablet.customer(), "both devices converge");
    let custom = &phone.customer().custom;
    assert_eq!(custom.get("f-industry").map(String::as_str), Some("Retail"));
    assert_eq!(custom.get("f-fleet").map(String::as_str), Some("12"));
    // The same several-choice field made on both: the shown device's set is read (a
    // concurrent first write of one field, like any field edited on two devices).
    assert_eq!(phone.customer().custom_sets["f-interests"].len(), 1);
    assert_eq!(phone.summary().custom.len(), 2);
    // The next edit writes every value into the map Automerge shows: a third device
    // that only reads the document the plain way sees them all.
    phone
        .update(Timestamp(T0.0 + 30), |c| {
            c.custom.insert("f-visit-day".into(), "Tuesday".into());
        })
        .unwrap();
    let plain: Customer =
        autosurgeon::hydrate(&automerge::AutoCommit::load(&phone.save()).unwrap()).unwrap();
    assert_eq!(plain.custom.len(), 3, "{:?}", plain.custom);
}

#[test]
fn a_custom_field_edited_on_two_devices_is_a_conflict_like_any_field() {
    let mut customer = full_customer();
    customer.custom.insert("f-fleet".into(), "10".into());
    let mut phone = CustomerDoc::create(customer, actor(1), T0).unwrap();
    let mut tablet = phone.fork(actor(2));
    phone
        .update(Timestamp(T0.0 + 10), |c| {
            c.custom.insert("f-fleet".into(), "12".into());
        })
        .unwrap();
    tablet
        .update(Timestamp(T0.0 + 20), |c| {
            c.custom.insert("f-fleet".into(), "14".into());
            c.custom.insert("f-industry".into(), "Retail".into());
        })
        .unwrap();
    phone.merge(&mut tablet).unwrap();
    let conflicts = phone.conflicts();
    let fields: Vec<&str> = conflicts.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(fields, ["custom.f-fleet"], "{conflicts:#?}");
    let mut shown: Vec<&str> = (conflicts[0].values.iter())
        .map(|value| value.display.as_str())
        .collect();
    shown.sort();
    assert_eq!(shown, ["12", "14"]);
    let loser = conflicts[0]
        .values
        .iter()
        .find(|v| !v.kept)
        .unwrap()
        .clone();
    phone
        .resolve_conflict("custom.f-fleet", &loser.op, Timestamp(T0.0 + 30))
        .unwrap();
    assert_eq!(phone.customer().custom["f-fleet"], loser.display);
    assert_eq!(phone.customer().custom["f-industry"], "Retail");
    assert!(phone.conflicts().is_empty());
}

/// A customer's change and its projection, as the device that made it pushes them.
fn change_and_projection(doc: &mut CustomerDoc, name: &str, at: i64) -> (Vec<u8>, Vec<u8>) {
    doc.update(Timestamp(T0.0 + at), |c| c.name = name.into())
        .unwrap();
    let change = doc.last_local_change().unwrap();
    let projection = shared::model::snapshot::encode_projection(&doc.summary(), &doc.facts());
    (change, projection)
}

#[test]
fn a_device_lists_changes_from_their_projection_only_when_they_follow_exactly_what_it_holds() {
    use shared::documents::customer_doc::fast_forward;
    let mut laptop = CustomerDoc::create(full_customer(), actor(1), T0).unwrap();
    let id = laptop.customer().id.clone();
    let stored = laptop.save();
    let mut phone = CustomerDoc::load(&id, &stored, actor(2)).unwrap();
    let held = phone.summary().heads;
    assert_ne!(held, 0);
    assert_eq!(held, laptop.summary().heads, "same document, same heads");

    let (first, first_projection) = change_and_projection(&mut laptop, "Zoë Martin", 1);
    let (second, second_projection) = change_and_projection(&mut laptop, "Zoë Bernard", 2);
    // One change, or two in a row with the last one's projection: the laptop's state.
    let (summary, facts) = fast_forward(&id, held, &[&first], &first_projection).unwrap();
    assert_eq!(summary.name, "Zoë Martin");
    let (summary, _) = fast_forward(&id, held, &[&first, &second], &second_projection).unwrap();
    assert_eq!(summary, laptop.summary());
    assert_eq!(facts.id, id);
    // The second alone does not follow what the phone holds; the first change's projection
    // is not what both make; nothing is known of a summary without heads; not this customer.
    assert!(fast_forward(&id, held, &[&second], &second_projection).is_none());
    assert!(fast_forward(&id, held, &[&first, &second], &first_projection).is_none());
    assert!(fast_forward(&id, 0, &[&first], &first_projection).is_none());
    let other: CustomerId = "00000000-0000-4000-8000-000000000001".parse().unwrap();
    assert!(fast_forward(&other, held, &[&first], &first_projection).is_none());
    assert!(fast_forward(&id, held, &[&first[..first.len() - 1]], &first_projection).is_none());
    assert!(fast_forward(&id, held, &[&first], &first_projection[1..]).is_none());

    // The phone changed the customer meanwhile: it holds other heads.
    phone
        .update(Timestamp(T0.0 + 3), |c| c.job_title = "Head buyer".into())
        .unwrap();
    assert!(fast_forward(&id, phone.summary().heads, &[&first], &first_projection).is_none());

    // Stored unchecked, the changes are checked when the document is next loaded: the
    // result is what the projection said.
    let (loaded, changed, refused) =
        CustomerDoc::load_checking(&id, &stored, &[first.clone(), second.clone()], [], actor(3))
            .unwrap();
    let mut loaded = loaded;
    assert!(!changed);
    assert_eq!(refused, 0);
    assert_eq!(loaded.summary(), laptop.summary());
    // A projection that lies (made by a device of another mind, heads right) is listed as
    // it came; the document, read back, says otherwise: what the engine's read-back
    // compares, and rewrites from.
    let mut lie = laptop.summary();
    lie.name = "Not Zoë".into();
    let lying = shared::model::snapshot::encode_projection(&lie, &laptop.facts());
    let (listed, _) = fast_forward(&id, held, &[&first, &second], &lying).unwrap();
    assert_eq!(listed.name, "Not Zoë");
    assert_ne!(listed, loaded.summary());
    // A stored change that does not apply (its predecessor is missing) is left out, and the
    // document still loads.
    let (mut loaded, _, refused) =
        CustomerDoc::load_checking(&id, &stored, std::slice::from_ref(&second), [], actor(3))
            .unwrap();
    assert_eq!(refused, 1);
    assert_eq!(loaded.customer().name, "Zoë Dupont");
    assert_eq!(loaded.summary().heads, held);
}
