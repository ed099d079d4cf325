//! A customer's history in words, read from the changes of its document.
//!
//! Every change of a [`CustomerDoc`] carries the device that made it (its message, see
//! [`CustomerDoc::set_author`]) and when (to the second). [`CustomerDoc::history`] walks the
//! changes once, in a causal order that is the same on every device, and interprets their
//! operations against a small model of the document's layout: which object is the address,
//! the email list, a deal… No document is rebuilt change by change (Automerge diffs per
//! change are what makes other history views slow), so a customer with 500 changes is read in
//! a few milliseconds.
//!
//! What a change replaced comes from the operations it names as predecessors, so "Stage:
//! Lead → Customer" is what its author saw, even when another device changed the stage at the
//! same time (that is said too, as a conflict, and so is the choice that ends it).
//!
//! [`CustomerDoc::put_back`] restores an earlier value of a field as a new change, validated
//! like any edit: history is never rewritten.

use std::collections::{BinaryHeap, HashMap};

use automerge::legacy::{ElementId, Key, ObjectId, OpId, OpType};
use automerge::{ActorId, Change, ChangeHash, ObjType, ScalarValue};

use crate::documents::book_doc::PipelineStage;
use crate::documents::customer_doc::DocError;
use crate::model::history::{display_field, field_label, HistoryEntry, HistoryLine};
use crate::model::records::{format_money, ActivityKind, FeedbackKind, Priority};
use crate::{CustomerDoc, Timestamp};

impl CustomerDoc {
    /// Every change of this customer in words, newest first. `own` is this device's actor
    /// (its changes say "this device" when they carry no name).
    /// Deals' stages are named after `pipeline` (the book's).
    pub fn history(&mut self, pipeline: &[PipelineStage]) -> Vec<HistoryEntry> {
        let own = self.doc.get_actor().clone();
        history_of(self.doc.get_changes(&[]), &own, pipeline)
    }

    /// Puts an earlier value of `field` back, as a new change at `now` validated like any
    /// edit. Returns whether anything changed (the field may already hold it).
    pub fn put_back(&mut self, field: &str, value: &str, now: Timestamp) -> Result<bool, DocError> {
        let mut edited = self.customer().clone();
        edited.set_field(field, value).map_err(|message| {
            DocError::Invalid(crate::ValidationErrors(vec![
                crate::model::validation::FieldError {
                    field: field.to_string(),
                    message,
                },
            ]))
        })?;
        self.update(now, move |customer| *customer = edited)
    }
}

/// The hash ([`HistoryEntry::change`]) of an entry from the relay that is one change made by
/// another actor than `own`; `None` for a snapshot, a bundle or this device's own change.
pub fn foreign_change_hash(bytes: &[u8], own: &ActorId) -> Option<String> {
    foreign_hash(&crate::sync::blob::single_change(bytes)?, own)
}

/// [`foreign_change_hash`] of a change already parsed.
pub fn foreign_hash(change: &Change, own: &ActorId) -> Option<String> {
    (change.actor_id() != own).then(|| change.hash().to_string())
}

/// [`CustomerDoc::history`] over a document's changes (any order).
pub fn history_of(
    changes: Vec<Change>,
    own: &ActorId,
    pipeline: &[PipelineStage],
) -> Vec<HistoryEntry> {
    let mut reader = Reader {
        stages: pipeline
            .iter()
            .map(|stage| (stage.id.clone(), stage.name.clone()))
            .collect(),
        ..Reader::default()
    };
    let mut entries: Vec<HistoryEntry> = causal_order(changes)
        .into_iter()
        .map(|change| reader.read(&change, own))
        .collect();
    entries.reverse();
    entries
}

/// The changes in an order every device computes alike: each after its dependencies, and
/// among those ready, the earliest (time, then actor, then sequence number) first.
fn causal_order(changes: Vec<Change>) -> Vec<Change> {
    #[derive(PartialEq, Eq, PartialOrd, Ord)]
    struct Ready(std::cmp::Reverse<(i64, Vec<u8>, u64)>, usize);
    let index: HashMap<ChangeHash, usize> = changes
        .iter()
        .enumerate()
        .map(|(at, change)| (change.hash(), at))
        .collect();
    let mut waiting = vec![0usize; changes.len()];
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); changes.len()];
    for (at, change) in changes.iter().enumerate() {
        for dep in change.deps() {
            if let Some(&before) = index.get(dep) {
                waiting[at] += 1;
                dependents[before].push(at);
            }
        }
    }
    let key = |change: &Change| {
        std::cmp::Reverse((
            change.timestamp(),
            change.actor_id().to_bytes().to_vec(),
            change.seq(),
        ))
    };
    let mut ready: BinaryHeap<Ready> = changes
        .iter()
        .enumerate()
        .filter(|(at, _)| waiting[*at] == 0)
        .map(|(at, change)| Ready(key(change), at))
        .collect();
    let mut order = Vec::with_capacity(changes.len());
    while let Some(Ready(_, at)) = ready.pop() {
        order.push(at);
        for &next in &dependents[at] {
            waiting[next] -= 1;
            if waiting[next] == 0 {
                ready.push(Ready(key(&changes[next]), next));
            }
        }
    }
    let mut slots: Vec<Option<Change>> = changes.into_iter().map(Some).collect();
    order
        .into_iter()
        .filter_map(|at| slots[at].take())
        .collect()
}

/// An operation's id with the actor as a small number.
type Op = (u64, usize);

/// What an object of the document is, by where it was made.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Place {
    Address,
    List(Points),
    Item(Points),
    Tags,
    Notes,
    /// The custom field values (`custom`).
    Custom,
    /// The several-choice values (`custom_sets`), and one field's set in it (its id).
    CustomSets,
    CustomSet(String),
    Records(Records),
    Record(Records, String),
    /// An object inside a record (a complaint's progress), with the record's object.
    InRecord(Records, String, Op),
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Points {
    Emails,
    Phones,
}

impl Points {
    fn key(self) -> &'static str {
        match self {
            Points::Emails => "emails",
            Points::Phones => "phones",
        }
    }
    fn noun(self) -> &'static str {
        match self {
            Points::Emails => "Email",
            Points::Phones => "Phone",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Records {
    Activities,
    Tasks,
    Feedback,
    Purchases,
    Deals,
}

/// The reader's model of the document so far.
#[derive(Default)]
struct Reader {
    actors: HashMap<ActorId, usize>,
    names: Vec<Option<String>>,
    places: HashMap<Op, Place>,
    values: HashMap<Op, ScalarValue>,
    /// The operations whose values a map key holds now (several: a conflict).
    live: HashMap<(Option<Op>, String), Vec<Op>>,
    /// Deal stage names by id.
    stages: HashMap<String, String>,
}

/// What one change did, gathered before it is put in words.
#[derive(Default)]
struct Work {
    created: bool,
    lines: Vec<HistoryLine>,
    items_added: Vec<(Points, Op)>,
    items_edited: Vec<(Points, Op, &'static str, String, String)>,
    records_added: Vec<(Records, String, Op)>,
    records_edited: Vec<(Records, String, Op, String)>,
    notes_added: String,
    notes_removed: usize,
}

impl Reader {
    fn actor(&mut self, actor: &ActorId) -> usize {
        if let Some(&at) = self.actors.get(actor) {
            return at;
        }
        self.actors.insert(actor.clone(), self.names.len());
        self.names.push(None);
        self.names.len() - 1
    }

    fn op(&mut self, id: &OpId) -> Op {
        (id.counter(), self.actor(id.actor()))
    }

    fn obj(&mut self, obj: &ObjectId) -> Option<Op> {
        match obj {
            ObjectId::Root => None,
            ObjectId::Id(id) => Some(self.op(id)),
        }
    }

    fn place(&self, obj: Option<Op>) -> Option<&Place> {
        obj.map(|obj| self.places.get(&obj).unwrap_or(&Place::Other))
    }

    /// The value a map key of `obj` holds now (the last written of its live values).
    fn current(&self, obj: Op, key: &str) -> Option<&ScalarValue> {
        let ops = self.live.get(&(Some(obj), key.to_string()))?;
        ops.last().and_then(|op| self.values.get(op))
    }

    fn current_text(&self, obj: Op, key: &str) -> String {
        self.current(obj, key).map(text).unwrap_or_default()
    }

    fn device(&self, actor: usize, own: usize) -> String {
        match &self.names[actor] {
            Some(name) => name.clone(),
            None if actor == own => "this device".to_string(),
            None => "another device".to_string(),
        }
    }

    fn read(&mut self, change: &Change, own: &ActorId) -> HistoryEntry {
        let author = self.actor(change.actor_id());
        let own = self.actor(own);
        if let Some(message) = change.message().filter(|message| !message.is_empty()) {
            self.names[author] = Some(message.to_string());
        }
        let expanded = change.decode();
        let mut work = Work::default();
        let start = change.start_op().get();
        for (offset, op) in expanded.operations.iter().enumerate() {
            let id: Op = (start + offset as u64, author);
            let obj = self.obj(&op.obj);
            let pred: Vec<Op> = op.pred.iter().map(|pred| self.op(pred)).collect();
            match &op.key {
                Key::Map(key) => self.map_op(&mut work, id, obj, key, &op.action, &pred, own),
                Key::Seq(elem) => self.seq_op(&mut work, id, obj, elem, op),
            }
        }
        let lines = self.words(work);
        HistoryEntry {
            change: change.hash().to_string(),
            device: self.device(author, own),
            this_device: author == own,
            time: Timestamp(change.timestamp() * 1000),
            lines,
            arrived: None,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn map_op(
        &mut self,
        work: &mut Work,
        id: Op,
        obj: Option<Op>,
        key: &str,
        action: &OpType,
        pred: &[Op],
        own: usize,
    ) {
        let place = self.place(obj).cloned();
        let old: Option<ScalarValue> = pred
            .iter()
            .rev()
            .find_map(|op| self.values.get(op))
            .cloned();
        // Where a new object lives.
        if let OpType::Make(kind) = action {
            let made = match (&place, key, kind) {
                (None, "address", _) => Place::Address,
                (None, "emails", ObjType::List) => Place::List(Points::Emails),
                (None, "phones", ObjType::List) => Place::List(Points::Phones),
                (None, "tags", _) => Place::Tags,
                (None, "custom", ObjType::Map) => Place::Custom,
                (None, "custom_sets", ObjType::Map) => Place::CustomSets,
                (Some(Place::CustomSets), field, ObjType::Map) => {
                    Place::CustomSet(field.to_string())
                }
                (None, "notes", ObjType::Text) => Place::Notes,
                (None, "activities", _) => Place::Records(Records::Activities),
                (None, "tasks", _) => Place::Records(Records::Tasks),
                (None, "feedback", _) => Place::Records(Records::Feedback),
                (None, "purchases", _) => Place::Records(Records::Purchases),
                (None, "deals", _) => Place::Records(Records::Deals),
                (Some(Place::Records(records)), id_key, ObjType::Map) => {
                    Place::Record(*records, id_key.to_string())
                }
                (Some(Place::Record(records, record)), _, _) => {
                    Place::InRecord(*records, record.clone(), obj.unwrap_or_default())
                }
                (Some(Place::InRecord(records, record, record_obj)), _, _) => {
                    Place::InRecord(*records, record.clone(), *record_obj)
                }
                _ => Place::Other,
            };
            self.places.insert(id, made.clone());
            if let (Some(Place::Records(records)), Place::Record(_, record)) = (&place, &made) {
                // A record made again under an id it had (an edit that replaced it whole)
                // counts as an edit.
                if pred.is_empty() {
                    work.records_added.push((*records, record.clone(), id));
                } else {
                    work.records_edited
                        .push((*records, record.clone(), id, String::new()));
                }
            }
        }
        let slot = (obj, key.to_string());
        let before = self.live.get(&slot).map(Vec::len).unwrap_or(0);
        let live = self.live.entry(slot).or_default();
        live.retain(|op| !pred.contains(op));
        match action {
            OpType::Delete => {}
            OpType::Put(value) => {
                self.values.insert(id, value.clone());
                live.push(id);
            }
            _ => live.push(id),
        }
        // What the key holds after this operation (several: a conflict).
        let live_after = live.clone();
        let new = match action {
            OpType::Put(value) => Some(value.clone()),
            _ => None,
        };
        match place {
            None => {
                if key == "id" && matches!(action, OpType::Put(_)) && pred.is_empty() {
                    work.created = true;
                }
                let field = match key {
                    "name" | "company" | "job_title" | "stage" | "preferred_channel"
                    | "birthday" | "owner" | "check_in_days" => key.to_string(),
                    "archived" => {
                        if let Some(ScalarValue::Boolean(archived)) = &new {
                            if old.is_some() && old.as_ref() != new.as_ref() {
                                work.lines.push(HistoryLine::text(
                                    if *archived {
                                        "Archived"
                                    } else {
                                        "Brought back from the archive"
                                    }
                                    .to_string(),
                                ));
                            }
                        }
                        return;
                    }
                    "merged_into" => {
                        if let Some(ScalarValue::Str(_)) = &new {
                            work.lines.push(HistoryLine::text(
                                "Merged into another customer".to_string(),
                            ));
                        }
                        return;
                    }
                    _ => return,
                };
                self.field_line(work, field, old, new, before, &live_after, id, own);
            }
            Some(Place::Address) => {
                let field = format!("address.{key}");
                self.field_line(work, field, old, new, before, &live_after, id, own);
            }
            Some(Place::Item(points)) => {
                if key == "value" || key == "label" {
                    let prop: &'static str = if key == "value" { "value" } else { "label" };
                    let item = obj.unwrap_or_default();
                    if work.items_added.iter().any(|(_, added)| *added == item) {
                        return;
                    }
                    let identity = self.current_text(item, "id");
                    let field = format!("{}.{identity}.{prop}", points.key());
                    let old_text = old.as_ref().map(text).unwrap_or_default();
                    let new_text = new.as_ref().map(text).unwrap_or_default();
                    if old_text != new_text {
                        work.items_edited
                            .push((points, item, prop, old_text, new_text));
                    }
                    self.conflict_note(work, &field, before, &live_after, id, own);
                }
            }
            // Named by field id: the screens put the field's name and a choice's label.
            Some(Place::Custom) => {
                let field = format!("custom.{key}");
                // A value replaced within one change is written as a deletion then a new
                // value (autosurgeon's map of strings): one line, old → new.
                let mut old = old;
                if matches!(action, OpType::Put(_)) && old.is_none() {
                    let removed = (work.lines.iter()).position(|line| {
                        line.field.as_deref() == Some(field.as_str())
                            && line.value.as_deref() == Some("")
                    });
                    if let Some(at) = removed {
                        let line = work.lines.remove(at);
                        old = line.before.map(|before| ScalarValue::Str(before.into()));
                    }
                }
                self.field_line(work, field, old, new, before, &live_after, id, own);
            }
            Some(Place::CustomSet(field)) => match action {
                OpType::Put(_) if old.is_none() => work.lines.push(HistoryLine {
                    field: Some(format!("custom.{field}")),
                    text: format!("custom.{field} + {key}"),
                    value: None,
                    before: None,
                }),
                OpType::Delete => work.lines.push(HistoryLine {
                    field: Some(format!("custom.{field}")),
                    text: format!("custom.{field} − {key}"),
                    value: None,
                    before: None,
                }),
                _ => {}
            },
            Some(Place::Tags) => match action {
                OpType::Put(_) if old.is_none() => work
                    .lines
                    .push(HistoryLine::text(format!("Tag added: {key}"))),
                OpType::Delete => work
                    .lines
                    .push(HistoryLine::text(format!("Tag removed: {key}"))),
                _ => {}
            },
            Some(Place::Records(records)) => {
                if matches!(action, OpType::Delete) {
                    // What a delete replaces is the record object made under that key.
                    if let Some(&record) = pred.last() {
                        let what = self.describe_record(records, record);
                        work.lines.push(HistoryLine::text(format!(
                            "{} deleted: {what}",
                            records.noun()
                        )));
                    }
                }
            }
            Some(Place::Record(records, record)) | Some(Place::InRecord(records, record, _)) => {
                // The record's object: this one, or the one it is inside.
                let record_obj = match self.place(obj) {
                    Some(Place::InRecord(_, _, record_obj)) => *record_obj,
                    _ => obj.unwrap_or_default(),
                };
                if work
                    .records_added
                    .iter()
                    .any(|(_, _, added)| *added == record_obj)
                {
                    return;
                }
                if old.as_ref() != new.as_ref() || !matches!(action, OpType::Put(_)) {
                    work.records_edited
                        .push((records, record, record_obj, key.to_string()));
                }
            }
            Some(Place::List(_))
            | Some(Place::Notes)
            | Some(Place::CustomSets)
            | Some(Place::Other) => {}
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn field_line(
        &self,
        work: &mut Work,
        field: String,
        old: Option<ScalarValue>,
        new: Option<ScalarValue>,
        before: usize,
        live_after: &[Op],
        id: Op,
        own: usize,
    ) {
        let old_text = old.as_ref().map(text).unwrap_or_default();
        let new_text = new.as_ref().map(text).unwrap_or_default();
        if old_text == new_text && before <= 1 && live_after.len() <= 1 {
            return;
        }
        let label = field_label(&field);
        let shown = |value: &str| display_field(&field, value);
        let text = if old_text.is_empty() {
            format!("{label}: {}", shown(&new_text))
        } else if new_text.is_empty() {
            format!("{label} removed (was {})", shown(&old_text))
        } else {
            format!("{label}: {} → {}", shown(&old_text), shown(&new_text))
        };
        if old_text != new_text {
            work.lines.push(HistoryLine {
                field: Some(field.clone()),
                text,
                value: Some(new_text),
                before: Some(old_text),
            });
        }
        self.conflict_note(work, &field, before, live_after, id, own);
    }

    /// Says when a write left a field with several values (a conflict), or ended one.
    fn conflict_note(
        &self,
        work: &mut Work,
        field: &str,
        before: usize,
        live_after: &[Op],
        id: Op,
        own: usize,
    ) {
        let label = field_label(field);
        if live_after.len() > 1 {
            let other = live_after
                .iter()
                .find(|op| **op != id)
                .map(|op| self.device(op.1, own))
                .unwrap_or_else(|| "another device".to_string());
            work.lines.push(HistoryLine::text(format!(
                "{label} was also changed on {other} at the same time: both values kept until one is chosen"
            )));
        } else if before > 1 {
            work.lines
                .push(HistoryLine::text(format!("Conflict on {label} resolved")));
        }
    }

    fn seq_op(
        &mut self,
        work: &mut Work,
        id: Op,
        obj: Option<Op>,
        elem: &ElementId,
        op: &automerge::legacy::Op,
    ) {
        match self.place(obj).cloned() {
            Some(Place::List(points)) => {
                if op.insert {
                    if let OpType::Make(_) = op.action {
                        self.places.insert(id, Place::Item(points));
                        work.items_added.push((points, id));
                    }
                } else if matches!(op.action, OpType::Delete) {
                    // The element deleted is the item made by the insert it names.
                    let item = match elem {
                        ElementId::Id(elem) => self.op(elem),
                        ElementId::Head => return,
                    };
                    let value = self.current_text(item, "value");
                    let label = self.current_text(item, "label");
                    work.lines.push(HistoryLine::text(format!(
                        "{} removed: {}",
                        points.noun(),
                        with_label(&value, &label)
                    )));
                }
            }
            Some(Place::Notes) => {
                if op.insert {
                    if let OpType::Put(ScalarValue::Str(text)) = &op.action {
                        work.notes_added.push_str(text);
                    }
                } else if matches!(op.action, OpType::Delete) {
                    work.notes_removed += 1;
                }
            }
            _ => {}
        }
    }

    fn stage_name(&self, id: &str) -> String {
        self.stages
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    fn describe_record(&self, records: Records, obj: Op) -> String {
        let get = |key: &str| self.current_text(obj, key);
        match records {
            Records::Activities => {
                let kind = ActivityKind::parse(&get("kind"))
                    .map(|kind| kind.label())
                    .unwrap_or("Activity");
                let detail = [get("outcome"), get("summary")]
                    .into_iter()
                    .filter(|part| !part.is_empty())
                    .collect::<Vec<_>>()
                    .join(" — ");
                if detail.is_empty() {
                    kind.to_string()
                } else {
                    format!("{kind}: {}", shorten(&detail))
                }
            }
            Records::Tasks => format!("“{}”", shorten(&get("title"))),
            Records::Feedback => {
                let kind = FeedbackKind::parse(&get("kind"))
                    .map(|kind| kind.label())
                    .unwrap_or("Score");
                format!("{kind} {}", get("score"))
            }
            Records::Purchases => {
                let quantity = self.current(obj, "quantity").and_then(number).unwrap_or(1);
                let price = self
                    .current(obj, "unit_price_cents")
                    .and_then(number)
                    .unwrap_or(0);
                format!(
                    "{quantity} × {}, {}",
                    get("product_name"),
                    format_money(price * quantity, &get("currency"))
                )
            }
            Records::Deals => format!("“{}”", shorten(&get("title"))),
        }
    }

    fn words(&mut self, work: Work) -> Vec<HistoryLine> {
        if work.created {
            // The first change writes every field: one line says what was added.
            let stage = self
                .live
                .get(&(None, "stage".to_string()))
                .and_then(|ops| ops.last())
                .and_then(|op| self.values.get(op))
                .map(text)
                .unwrap_or_default();
            let value = stage.clone();
            return vec![HistoryLine {
                field: Some("stage".to_string()),
                text: format!("Added as {}", display_field("stage", &stage)),
                value: Some(value),
                before: None,
            }];
        }
        let mut lines = work.lines;
        for (points, item) in &work.items_added {
            let value = self.current_text(*item, "value");
            let label = self.current_text(*item, "label");
            let identity = self.current_text(*item, "id");
            lines.push(HistoryLine {
                field: Some(format!("{}.{identity}.value", points.key())),
                text: format!("{} added: {}", points.noun(), with_label(&value, &label)),
                value: Some(value),
                before: None,
            });
        }
        for (points, item, prop, old, new) in &work.items_edited {
            let identity = self.current_text(*item, "id");
            let field = format!("{}.{identity}.{prop}", points.key());
            let noun = if *prop == "label" {
                format!("{} label", points.noun())
            } else {
                points.noun().to_string()
            };
            let text = if old.is_empty() {
                format!("{noun}: {new}")
            } else if new.is_empty() {
                format!("{noun} removed (was {old})")
            } else {
                format!("{noun}: {old} → {new}")
            };
            lines.push(HistoryLine {
                field: Some(field),
                text,
                value: Some(new.clone()),
                before: Some(old.clone()),
            });
        }
        if !work.notes_added.is_empty() || work.notes_removed > 0 {
            let text = match (work.notes_added.trim(), work.notes_removed) {
                ("", removed) => format!("Notes: {removed} characters removed"),
                (added, 0) => format!("Notes: added “{}”", shorten(added)),
                (added, removed) => {
                    format!(
                        "Notes: added “{}”, {removed} characters removed",
                        shorten(added)
                    )
                }
            };
            lines.push(HistoryLine::text(text));
        }
        for (records, _, obj) in &work.records_added {
            lines.push(HistoryLine::text(self.added_words(*records, *obj)));
        }
        let mut edited: Vec<(Records, String, Op, Vec<String>)> = Vec::new();
        for (records, record, obj, key) in work.records_edited {
            match edited
                .iter_mut()
                .find(|(kind, id, _, _)| *kind == records && *id == record)
            {
                Some((_, _, _, keys)) => keys.push(key),
                None => edited.push((records, record, obj, vec![key])),
            }
        }
        for (records, _, obj, keys) in edited {
            lines.push(HistoryLine::text(self.edited_words(records, obj, &keys)));
        }
        lines
    }

    fn added_words(&self, records: Records, obj: Op) -> String {
        let get = |key: &str| self.current_text(obj, key);
        match records {
            Records::Activities => {
                let kind = ActivityKind::parse(&get("kind"));
                let what = self.describe_record(records, obj);
                match kind {
                    Some(ActivityKind::Complaint) => format!(
                        "Complaint received: {}",
                        what.trim_start_matches("Complaint: ")
                    ),
                    Some(ActivityKind::Note) => {
                        format!("Note added: {}", what.trim_start_matches("Note: "))
                    }
                    Some(kind) => {
                        let rest = what
                            .strip_prefix(kind.label())
                            .unwrap_or("")
                            .trim_start_matches(": ");
                        if rest.is_empty() {
                            format!("{} logged", kind.label())
                        } else {
                            format!("{} logged: {rest}", kind.label())
                        }
                    }
                    None => format!("Activity logged: {what}"),
                }
            }
            Records::Tasks => {
                let due = self
                    .current(obj, "due")
                    .and_then(number)
                    .map(|due| {
                        let (year, month, day) = Timestamp(due).civil_date();
                        format!(", due {year:04}-{month:02}-{day:02}")
                    })
                    .unwrap_or_default();
                let priority = Priority::parse(&get("priority"))
                    .filter(|priority| *priority == Priority::High)
                    .map(|_| ", high priority")
                    .unwrap_or("");
                format!(
                    "Follow-up added: {}{due}{priority}",
                    self.describe_record(records, obj)
                )
            }
            Records::Feedback => format!("Score recorded: {}", self.describe_record(records, obj)),
            Records::Purchases => format!("Purchase: {}", self.describe_record(records, obj)),
            Records::Deals => {
                let value = self
                    .current(obj, "value_cents")
                    .and_then(number)
                    .unwrap_or(0);
                format!(
                    "Deal added: {} ({}, {})",
                    self.describe_record(records, obj),
                    self.stage_name(&get("stage")),
                    format_money(value, &get("currency"))
                )
            }
        }
    }

    fn edited_words(&self, records: Records, obj: Op, keys: &[String]) -> String {
        let what = self.describe_record(records, obj);
        let get = |key: &str| self.current_text(obj, key);
        let has = |key: &str| keys.iter().any(|edited| edited == key);
        match records {
            Records::Deals if has("stage") => {
                format!("Deal {what} moved to {}", self.stage_name(&get("stage")))
            }
            Records::Tasks if has("done_at") => {
                if self.current(obj, "done_at").and_then(number).is_some() {
                    format!("Follow-up done: {what}")
                } else {
                    format!("Follow-up reopened: {what}")
                }
            }
            Records::Tasks if has("assignee") && !get("assignee").is_empty() => {
                format!("Follow-up for {}: {what}", get("assignee"))
            }
            Records::Activities if has("status") => {
                // A complaint's progress lives in a map inside the activity.
                let status = self
                    .live
                    .get(&(Some(obj), "complaint".to_string()))
                    .and_then(|ops| ops.last())
                    .and_then(|complaint| self.current(*complaint, "status"))
                    .map(text)
                    .unwrap_or_default();
                format!(
                    "Complaint {}: {}",
                    status.replace('_', " "),
                    what.trim_start_matches("Complaint: ")
                )
            }
            _ => format!("{} edited: {what}", records.noun()),
        }
    }
}

impl Records {
    fn noun(self) -> &'static str {
        match self {
            Records::Activities => "Activity",
            Records::Tasks => "Follow-up",
            Records::Feedback => "Score",
            Records::Purchases => "Purchase",
            Records::Deals => "Deal",
        }
    }
}

fn with_label(value: &str, label: &str) -> String {
    if label.is_empty() {
        value.to_string()
    } else {
        format!("{value} ({label})")
    }
}

fn shorten(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(60) {
        Some((cut, _)) => format!("{}…", text[..cut].trim_end()),
        None => text.to_string(),
    }
}

fn text(value: &ScalarValue) -> String {
    match value {
        ScalarValue::Str(text) => text.to_string(),
        ScalarValue::Int(number) => number.to_string(),
        ScalarValue::Uint(number) => number.to_string(),
        ScalarValue::F64(number) => number.to_string(),
        ScalarValue::Boolean(flag) => flag.to_string(),
        ScalarValue::Null => String::new(),
        other => other.to_string(),
    }
}

fn number(value: &ScalarValue) -> Option<i64> {
    match value {
        ScalarValue::Int(number) => Some(*number),
        ScalarValue::Uint(number) => i64::try_from(*number).ok(),
        ScalarValue::F64(number) => Some(*number as i64),
        ScalarValue::Timestamp(number) => Some(*number),
        _ => None,
    }
}
