//! [`DocCache`]: a small least-recently-used cache of loaded customer documents.
//!
//! A loaded Automerge document costs tens of kilobytes; the book can hold tens of thousands
//! of customers, so only the few the rep is looking at stay loaded.

use shared::{CustomerDoc, CustomerId};

/// A loaded document and where its storage chunks stand.
pub struct CachedDoc {
    /// The document.
    pub doc: CustomerDoc,
    /// How many chunks IndexedDB holds for it.
    pub n_chunks: u32,
    /// The sequence number of its next chunk.
    pub next_seq: u32,
}

/// Least-recently-used cache; the front is the most recent.
pub struct DocCache {
    capacity: usize,
    entries: Vec<(CustomerId, CachedDoc)>,
}

impl DocCache {
    /// An empty cache holding at most `capacity` documents.
    pub fn new(capacity: usize) -> DocCache {
        DocCache {
            capacity,
            entries: Vec::with_capacity(capacity),
        }
    }

    /// The document, marked as most recently used.
    pub fn get(&mut self, customer_id: &CustomerId) -> Option<&mut CachedDoc> {
        let position = self.entries.iter().position(|(id, _)| id == customer_id)?;
        let entry = self.entries.remove(position);
        self.entries.insert(0, entry);
        self.entries.first_mut().map(|(_, cached)| cached)
    }

    /// Whether the document is cached (its place in the order unchanged).
    pub fn contains(&self, customer_id: &CustomerId) -> bool {
        self.entries.iter().any(|(id, _)| id == customer_id)
    }

    /// Adds a document, evicting the least recently used one when full.
    pub fn insert(&mut self, customer_id: CustomerId, cached: CachedDoc) {
        self.remove(&customer_id);
        if self.entries.len() >= self.capacity {
            self.entries.pop();
        }
        self.entries.insert(0, (customer_id, cached));
    }

    /// Drops a document.
    pub fn remove(&mut self, customer_id: &CustomerId) {
        self.entries.retain(|(id, _)| id != customer_id);
    }

    /// Takes a document out of the cache.
    pub fn take(&mut self, customer_id: &CustomerId) -> Option<CachedDoc> {
        let position = self.entries.iter().position(|(id, _)| id == customer_id)?;
        Some(self.entries.remove(position).1)
    }
}
