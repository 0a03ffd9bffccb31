//! Ways to damage a file: flipped bytes, cut tails, extra bytes, length fields that claim
//! gigabytes (big-endian u32 headers and LEB128 varints).

use proptest::prelude::*;
use proptest::sample::Index;

/// One change to a file.
#[derive(Clone, Debug)]
pub enum Mutation {
    /// Replace the byte at a position.
    Flip(Index, u8),
    /// Keep only a prefix.
    Truncate(Index),
    /// Overwrite a 4-byte big-endian header field (magic, count, rows, columns).
    Field(usize, u32),
    /// Add bytes at the end.
    Append(Vec<u8>),
    /// Overwrite from a position with a LEB128 varint (postcard's lengths) claiming a size.
    Varint(Index, u64),
}

/// Values a length field can claim: small, off by one, and gigabytes.
fn claim() -> impl Strategy<Value = u32> {
    prop_oneof![
        Just(0),
        Just(1),
        Just(2),
        Just(3),
        Just(4),
        Just(28),
        Just(2049),
        Just(2051),
        Just(999_999),
        Just(1_000_000),
        Just(1_000_001),
        Just(1 << 30),
        Just(u32::MAX),
        any::<u32>()
    ]
}

pub fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        2 => any::<Index>().prop_map(Mutation::Truncate),
        3 => (0usize..4, claim()).prop_map(|(f, v)| Mutation::Field(f, v)),
        1 => proptest::collection::vec(any::<u8>(), 1..64).prop_map(Mutation::Append),
        2 => (any::<Index>(), prop_oneof![Just(1u64 << 32), Just(1u64 << 40), Just(u64::MAX), any::<u64>()])
            .prop_map(|(i, v)| Mutation::Varint(i, v)),
    ]
}

/// A few mutations in a row, as many as `len` allows.
pub fn mutations(len: std::ops::Range<usize>) -> impl Strategy<Value = Vec<Mutation>> {
    proptest::collection::vec(mutation(), len)
}

/// How every hostile property runs: 4000 cases, and no file of failures left behind.
pub fn config() -> ProptestConfig {
    ProptestConfig { cases: 4000, failure_persistence: None, ..ProptestConfig::default() }
}

pub fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    match m {
        Mutation::Flip(i, b) if !bytes.is_empty() => {
            let at = i.index(bytes.len());
            bytes[at] = *b;
        }
        Mutation::Truncate(i) => bytes.truncate(i.index(bytes.len() + 1)),
        Mutation::Field(f, v) if bytes.len() >= 4 * f + 4 => {
            bytes[4 * f..4 * f + 4].copy_from_slice(&v.to_be_bytes())
        }
        Mutation::Append(extra) => bytes.extend_from_slice(extra),
        Mutation::Varint(i, v) if !bytes.is_empty() => {
            let mut at = i.index(bytes.len());
            let mut v = *v;
            loop {
                let byte = (v & 0x7f) as u8 | if v >= 0x80 { 0x80 } else { 0 };
                if at == bytes.len() {
                    bytes.push(byte);
                } else {
                    bytes[at] = byte;
                }
                at += 1;
                v >>= 7;
                if v == 0 {
                    break;
                }
            }
        }
        _ => {}
    }
}
