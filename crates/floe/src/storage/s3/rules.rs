//! The part plans S3-compatible stores accept. floe checks them before presigning, because
//! stores differ in what they enforce: AWS wants every part but the last to be at least
//! 5 MiB, R2 also wants them all the same size, and Garage checks neither.

use crate::storage::PlannedPart;

/// The smallest part but the last.
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
/// The largest part.
pub const MAX_PART_SIZE: u64 = 5 * 1024 * 1024 * 1024;
/// The most parts in one upload.
pub const MAX_PARTS: usize = 10_000;

/// Why `parts` (already a valid plan: numbered 1..N, contiguous) would be refused.
pub fn check(parts: &[PlannedPart]) -> Result<(), String> {
    if parts.len() > MAX_PARTS {
        return Err(format!("An upload has at most {MAX_PARTS} parts"));
    }
    let Some((last, leading)) = parts.split_last() else {
        return Ok(());
    };
    let part_size = leading.first().map_or(last.len(), PlannedPart::len);
    if part_size > MAX_PART_SIZE {
        return Err(format!("A part is at most {MAX_PART_SIZE} bytes (5 GiB)"));
    }
    if leading.is_empty() {
        return Ok(());
    }
    if part_size < MIN_PART_SIZE {
        return Err(format!(
            "Every part but the last must be at least {MIN_PART_SIZE} bytes (5 MiB); \
             a smaller file is uploaded as one part"
        ));
    }
    if let Some(odd) = leading.iter().find(|p| p.len() != part_size) {
        return Err(format!(
            "Every part but the last must have the same size: part {} has {} bytes, part 1 {part_size}",
            odd.number,
            odd.len()
        ));
    }
    if last.len() > part_size {
        return Err(format!(
            "The last part may not be larger than the others ({} > {part_size} bytes)",
            last.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;

    fn plan(sizes: &[u64]) -> Vec<PlannedPart> {
        let mut start = 0;
        sizes
            .iter()
            .enumerate()
            .map(|(i, &size)| {
                let part = PlannedPart {
                    number: i as u32 + 1,
                    start,
                    end: start + size,
                    sha256: None,
                };
                start += size;
                part
            })
            .collect()
    }

    #[test]
    fn small_files_are_one_part_of_any_size() {
        assert!(check(&plan(&[1])).is_ok());
        assert!(check(&plan(&[5 * MIB - 1])).is_ok());
        assert!(check(&plan(&[3 * MIB, 1])).is_err());
    }

    #[test]
    fn leading_parts_are_at_least_5_mib_and_equal() {
        assert!(check(&plan(&[5 * MIB, 5 * MIB, 1])).is_ok());
        // Polar's uploader: 10,000,000-byte chunks, and an empty part after an exact multiple
        // (which floe answers itself, see empty_part.rs).
        assert!(check(&plan(&[10_000_000, 10_000_000, 5_600_000])).is_ok());
        assert!(check(&plan(&[10_000_000, 10_000_000, 0])).is_ok());
        assert!(check(&plan(&[5 * MIB - 1, 5 * MIB - 1, 1])).is_err());
        assert!(check(&plan(&[6 * MIB, 5 * MIB, 1])).is_err());
    }

    #[test]
    fn the_last_part_is_no_larger() {
        assert!(check(&plan(&[5 * MIB, 5 * MIB])).is_ok());
        assert!(check(&plan(&[5 * MIB, 5 * MIB + 1])).is_err());
    }

    #[test]
    fn at_most_10000_parts_of_at_most_5_gib() {
        assert!(check(&plan(&vec![5 * MIB; MAX_PARTS])).is_ok());
        assert!(check(&plan(&vec![5 * MIB; MAX_PARTS + 1])).is_err());
        assert!(check(&plan(&[MAX_PART_SIZE, 1])).is_ok());
        assert!(check(&plan(&[MAX_PART_SIZE + 1, 1])).is_err());
        assert!(check(&plan(&[MAX_PART_SIZE + 1])).is_err());
    }
}
