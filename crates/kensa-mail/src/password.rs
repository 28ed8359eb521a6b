//! Password candidates from the subject and body of a message (Japanese and English).
