//! brute force
