//! The layer shape table (placeholder, filled in next).
