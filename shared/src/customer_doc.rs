//! [`CustomerDoc`]: one Automerge document holding one [`Customer`].
//!
//! Storage keeps a document as a list of byte chunks: a full snapshot ([`CustomerDoc::save`])
//! followed by incremental chunks ([`CustomerDoc::save_incremental`]), one per saved edit.
//! [`CustomerDoc::load`] accepts the concatenation of all chunks, so appending a chunk per
//! edit and compacting now and then never loses anything.

use automerge::{transaction::CommitOptions, ActorId, AutoCommit, ChangeHash};

use crate::{validation, Customer, CustomerId, CustomerSummary, Timestamp, ValidationErrors};

/// Why a document operation failed.
#[derive(Debug, thiserror::Error)]
pub enum DocError {
    /// The bytes are not an Automerge document.
    #[error("stored document is corrupt: {0}")]
    Corrupt(#[from] automerge::AutomergeError),
    /// The document does not have the shape of a customer.
    #[error("document is not a customer: {0}")]
    NotACustomer(#[from] autosurgeon::HydrateError),
    /// The document belongs to another customer than the one asked for.
    #[error("document holds customer {found}, expected {expected}")]
    WrongCustomer {
        /// The id the caller asked for.
        expected: CustomerId,
        /// The id found inside the document.
        found: CustomerId,
    },
    /// The edited customer breaks a validation rule; nothing was changed.
    #[error("{0}")]
    Invalid(#[from] ValidationErrors),
    /// Writing the customer into the document failed.
    #[error("could not write customer into document: {0}")]
    Reconcile(#[from] autosurgeon::ReconcileError),
}

/// One customer's Automerge document plus a cached hydrated copy of its contents.
pub struct CustomerDoc {
    doc: AutoCommit,
    customer: Customer,
}

impl std::fmt::Debug for CustomerDoc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustomerDoc")
            .field("customer", &self.customer.id)
            .finish_non_exhaustive()
    }
}

impl CustomerDoc {
    /// Creates the document for a new customer, written by `actor` at `now`.
    ///
    /// The customer is validated first; an invalid customer creates nothing.
    pub fn create(
        mut customer: Customer,
        actor: ActorId,
        now: Timestamp,
    ) -> Result<CustomerDoc, DocError> {
        validation::validate(&customer)?;
        customer.created_at = now;
        customer.updated_at = now;
        let mut doc = AutoCommit::new().with_actor(actor);
        autosurgeon::reconcile(&mut doc, &customer)?;
        commit(&mut doc, "create customer", now);
        // Hydrate again so list entries and text carry their document identity.
        let customer = autosurgeon::hydrate(&doc)?;
        Ok(CustomerDoc { doc, customer })
    }

    /// Loads a document from the concatenation of its stored chunks and checks that it holds
    /// the customer `expected`.
    pub fn load(
        expected: &CustomerId,
        bytes: &[u8],
        actor: ActorId,
    ) -> Result<CustomerDoc, DocError> {
        let doc = AutoCommit::load(bytes)?.with_actor(actor);
        let customer: Customer = autosurgeon::hydrate(&doc)?;
        if &customer.id != expected {
            return Err(DocError::WrongCustomer {
                expected: expected.clone(),
                found: customer.id,
            });
        }
        Ok(CustomerDoc { doc, customer })
    }

    /// The customer as currently stored in the document.
    pub fn customer(&self) -> &Customer {
        &self.customer
    }

    /// Applies `edit` to a copy of the customer, validates the result and, only if it is valid,
    /// writes the difference into the document as one change made at `now`.
    ///
    /// Returns whether anything changed. A no-op edit creates no change.
    pub fn update(
        &mut self,
        now: Timestamp,
        edit: impl FnOnce(&mut Customer),
    ) -> Result<bool, DocError> {
        let mut edited = self.customer.clone();
        edit(&mut edited);
        // The id is the document's identity and never changes.
        edited.id = self.customer.id.clone();
        if edited == self.customer {
            return Ok(false);
        }
        validation::validate(&edited)?;
        edited.updated_at = now;
        autosurgeon::reconcile(&mut self.doc, &edited)?;
        commit(&mut self.doc, "edit customer", now);
        self.customer = autosurgeon::hydrate(&self.doc)?;
        Ok(true)
    }

    /// Merges another copy of this document (e.g. from another device).
    pub fn merge(&mut self, other: &mut CustomerDoc) -> Result<(), DocError> {
        self.doc.merge(&mut other.doc)?;
        self.customer = autosurgeon::hydrate(&self.doc)?;
        Ok(())
    }

    /// A copy of this document written by another actor, as a second device would hold it.
    pub fn fork(&mut self, actor: ActorId) -> CustomerDoc {
        CustomerDoc {
            doc: self.doc.fork().with_actor(actor),
            customer: self.customer.clone(),
        }
    }

    /// The whole document as one compact snapshot chunk.
    pub fn save(&mut self) -> Vec<u8> {
        self.doc.save()
    }

    /// The changes made since the last save or incremental save, as one chunk to append.
    pub fn save_incremental(&mut self) -> Vec<u8> {
        self.doc.save_incremental()
    }

    /// The heads of the document's history.
    pub fn heads(&mut self) -> Vec<ChangeHash> {
        self.doc.get_heads()
    }

    /// The projection record for the list, search and counts.
    pub fn summary(&self) -> CustomerSummary {
        CustomerSummary::of(&self.customer)
    }
}

fn commit(doc: &mut AutoCommit, message: &str, now: Timestamp) {
    // Automerge change times are in seconds.
    doc.commit_with(
        CommitOptions::default()
            .with_message(message.to_string())
            .with_time(now.0 / 1000),
    );
}
