//! Fields edited concurrently on two devices, made visible.
//!
//! Automerge merges concurrent writes to *different* fields silently. When two devices
//! wrote the *same* field without seeing each other's write, it keeps every value and
//! picks a deterministic winner; [`CustomerDoc::conflicts`] lists those fields with every
//! value, the device that wrote it (the change message, see [`CustomerDoc::set_author`])
//! and when. [`CustomerDoc::resolve_conflict`] writes the rep's choice as a new change that
//! supersedes all of them, so the choice syncs like any edit.

use automerge::{transaction::Transactable, ObjId, ObjType, ReadDoc, ScalarValue, Value, ROOT};

use crate::documents::customer_doc::{commit, DocError};
use crate::{CalendarDate, Channel, CustomerDoc, LifecycleStage, Timestamp};

/// One field with concurrent values.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct FieldConflict {
    /// A stable key for the field (e.g. `name`, `address.city`, `emails.<id>.value`).
    pub field: String,
    /// What the rep calls it.
    pub label: String,
    /// Every value, the kept one first.
    pub values: Vec<ConflictValue>,
}

/// One of the concurrent values of a field.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ConflictValue {
    /// The value as shown.
    pub display: String,
    /// The device that wrote it, if it named itself.
    pub author: Option<String>,
    /// Whether this device wrote it.
    pub this_device: bool,
    /// When it was written (to the second).
    pub time: Timestamp,
    /// Whether Automerge kept it as the current value.
    pub kept: bool,
    /// Identifies the value for [`CustomerDoc::resolve_conflict`].
    pub op: String,
}

struct Slot {
    obj: ObjId,
    prop: String,
    field: String,
    label: String,
}

const TOP: &[(&str, &str)] = &[
    ("name", "Name"),
    ("company", "Company"),
    ("job_title", "Job title"),
    ("stage", "Stage"),
    ("preferred_channel", "Preferred channel"),
    ("birthday", "Birthday"),
    ("owner", "Owner"),
    ("archived", "Archived"),
];
const ADDRESS: &[(&str, &str)] = &[
    ("street", "Street"),
    ("city", "City"),
    ("postal_code", "Postal code"),
    ("region", "Region"),
    ("country", "Country"),
];

impl CustomerDoc {
    fn slots(&self) -> Vec<Slot> {
        let doc = &self.doc;
        let mut slots: Vec<Slot> = TOP
            .iter()
            .map(|(prop, label)| Slot {
                obj: ROOT,
                prop: (*prop).to_string(),
                field: (*prop).to_string(),
                label: (*label).to_string(),
            })
            .collect();
        if let Ok(Some((Value::Object(ObjType::Map), address))) = doc.get(ROOT, "address") {
            slots.extend(ADDRESS.iter().map(|(prop, label)| Slot {
                obj: address.clone(),
                prop: (*prop).to_string(),
                field: format!("address.{prop}"),
                label: (*label).to_string(),
            }));
        }
        for (list, noun) in [("emails", "Email"), ("phones", "Phone")] {
            let Ok(Some((Value::Object(ObjType::List), list_id))) = doc.get(ROOT, list) else {
                continue;
            };
            for index in 0..doc.length(&list_id) {
                let Ok(Some((Value::Object(ObjType::Map), item))) = doc.get(&list_id, index) else {
                    continue;
                };
                let id = match doc.get(&item, "id") {
                    Ok(Some((Value::Scalar(id), _))) => match id.as_ref() {
                        ScalarValue::Str(id) => id.to_string(),
                        _ => continue,
                    },
                    _ => continue,
                };
                for (prop, what) in [("value", ""), ("label", " label")] {
                    slots.push(Slot {
                        obj: item.clone(),
                        prop: prop.to_string(),
                        field: format!("{list}.{id}.{prop}"),
                        label: format!("{noun} {}{what}", index + 1),
                    });
                }
            }
        }
        // Custom field values: labelled by field id (the screens name the field, from the
        // book's definitions, and show a choice's label for its id).
        if let Ok(Some((Value::Object(ObjType::Map), custom))) = doc.get(ROOT, "custom") {
            for id in doc.keys(&custom) {
                slots.push(Slot {
                    obj: custom.clone(),
                    field: format!("custom.{id}"),
                    label: id.clone(),
                    prop: id,
                });
            }
        }
        slots
    }

    /// Every field whose value was written concurrently on several devices.
    pub fn conflicts(&mut self) -> Vec<FieldConflict> {
        let own_actor = self.doc.get_actor().clone();
        let mut conflicts = Vec::new();
        for slot in self.slots() {
            let Ok(values) = self.doc.get_all(&slot.obj, slot.prop.as_str()) else {
                continue;
            };
            let values: Vec<(Value<'static>, ObjId)> = values
                .into_iter()
                .map(|(value, op)| (value.into_owned(), op))
                .collect();
            if values.len() < 2 {
                continue;
            }
            let kept = self
                .doc
                .get(&slot.obj, slot.prop.as_str())
                .ok()
                .flatten()
                .map(|(_, id)| id);
            let mut shown = Vec::new();
            for (value, op) in values {
                let display = self.display(&slot.prop, &value, &op);
                let (author, time, this_device) = match self.doc.hash_for_opid(&op) {
                    Some(hash) => match self.doc.get_change_meta_by_hash(&hash) {
                        Some(meta) => (
                            meta.message.as_ref().map(|m| m.to_string()),
                            Timestamp(meta.timestamp * 1000),
                            *meta.actor == own_actor,
                        ),
                        None => (None, Timestamp(0), false),
                    },
                    None => (None, Timestamp(0), false),
                };
                shown.push(ConflictValue {
                    display,
                    author,
                    this_device,
                    time,
                    kept: kept.as_ref() == Some(&op),
                    op: op.to_string(),
                });
            }
            crate::order::sort_by_key(&mut shown, |value| !value.kept);
            conflicts.push(FieldConflict {
                field: slot.field,
                label: slot.label,
                values: shown,
            });
        }
        conflicts
    }

    fn display(&self, prop: &str, value: &Value<'_>, op: &ObjId) -> String {
        match value {
            Value::Scalar(scalar) => match scalar.as_ref() {
                ScalarValue::Str(text) if prop == "stage" => LifecycleStage::parse(text)
                    .map_or_else(|| text.to_string(), |stage| stage.label().to_string()),
                ScalarValue::Str(text) if prop == "preferred_channel" => Channel::parse(text)
                    .map_or_else(|| text.to_string(), |channel| channel.label().to_string()),
                ScalarValue::Str(text) if prop == "birthday" => crate::Birthday::parse(text)
                    .map_or_else(|| text.to_string(), crate::Birthday::describe),
                ScalarValue::Str(text) if text.is_empty() => "(empty)".to_string(),
                ScalarValue::Str(text) => text.to_string(),
                ScalarValue::Null => "(none)".to_string(),
                ScalarValue::Boolean(true) => "yes".to_string(),
                ScalarValue::Boolean(false) => "no".to_string(),
                other => other.to_string(),
            },
            Value::Object(ObjType::Map) if prop == "birthday" => {
                let part = |key: &str| match self.doc.get(op, key) {
                    Ok(Some((Value::Scalar(value), _))) => match value.as_ref() {
                        ScalarValue::Int(n) => Some(*n),
                        ScalarValue::Uint(n) => i64::try_from(*n).ok(),
                        _ => None,
                    },
                    _ => None,
                };
                match (part("year"), part("month"), part("day")) {
                    (Some(year), Some(month), Some(day)) => CalendarDate {
                        year: year as i32,
                        month: month as u32,
                        day: day as u32,
                    }
                    .to_string(),
                    _ => "(unreadable date)".to_string(),
                }
            }
            Value::Object(_) => "(nested value)".to_string(),
        }
    }

    /// Keeps the value `op` (from [`ConflictValue::op`]) of `field`, as one new change made
    /// at `now`, which replaces every concurrent value on every device once synced.
    pub fn resolve_conflict(
        &mut self,
        field: &str,
        op: &str,
        now: Timestamp,
    ) -> Result<(), DocError> {
        let slot = self
            .slots()
            .into_iter()
            .find(|slot| slot.field == field)
            .ok_or(DocError::NoSuchConflict)?;
        let values = self.doc.get_all(&slot.obj, slot.prop.as_str())?;
        if values.len() < 2 {
            return Err(DocError::NoSuchConflict);
        }
        let (value, chosen) = values
            .into_iter()
            .find(|(_, id)| id.to_string() == op)
            .ok_or(DocError::NoSuchConflict)?;
        match value {
            Value::Scalar(scalar) => {
                self.doc
                    .put(&slot.obj, slot.prop.as_str(), scalar.into_owned())?;
            }
            Value::Object(ObjType::Map) => {
                let parts: Vec<(String, ScalarValue)> = self
                    .doc
                    .keys(&chosen)
                    .filter_map(|key| match self.doc.get(&chosen, &key) {
                        Ok(Some((Value::Scalar(scalar), _))) => Some((key, scalar.into_owned())),
                        _ => None,
                    })
                    .collect();
                let copy = self
                    .doc
                    .put_object(&slot.obj, slot.prop.as_str(), ObjType::Map)?;
                for (key, value) in parts {
                    self.doc.put(&copy, key, value)?;
                }
            }
            Value::Object(_) => return Err(DocError::NoSuchConflict),
        }
        let author = self.author().map(str::to_string);
        commit(&mut self.doc, author.as_deref(), now);
        self.rehydrate()
    }
}
