//! Reading an object back: its part files, in order, as one byte stream, optionally from
//! a byte range.

use std::io::SeekFrom;
use std::path::PathBuf;

use bytes::Bytes;
use futures_util::Stream;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::layout::ObjectManifest;

const READ_CHUNK: usize = 128 * 1024;

/// The bytes `[start, end)` of the object whose files are in `dir`.
pub fn stream_range(
    dir: PathBuf,
    manifest: &ObjectManifest,
    start: u64,
    end: u64,
) -> impl Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    // Which slice of which part file each piece of the range comes from.
    let mut segments = Vec::new();
    let mut offset = 0u64;
    for part in &manifest.parts {
        let (part_start, part_end) = (offset, offset + part.size);
        offset = part_end;
        let from = start.max(part_start);
        let to = end.min(part_end);
        if from < to {
            segments.push((dir.join(&part.data_file), from - part_start, to - from));
        }
    }
    futures_util::stream::unfold(
        (segments.into_iter(), None::<(tokio::fs::File, u64)>),
        |(mut segments, mut current)| async move {
            loop {
                if let Some((file, remaining)) = current.as_mut()
                    && *remaining > 0
                {
                    let want = (*remaining).min(READ_CHUNK as u64) as usize;
                    let mut buffer = vec![0u8; want];
                    return match file.read_exact(&mut buffer).await {
                        Ok(_) => {
                            *remaining -= want as u64;
                            Some((Ok(Bytes::from(buffer)), (segments, current)))
                        }
                        // End the stream after an error.
                        Err(e) => Some((Err(e), (Vec::new().into_iter(), None))),
                    };
                }
                let (path, skip, len) = segments.next()?;
                let opened = async {
                    let mut file = tokio::fs::File::open(&path).await?;
                    file.seek(SeekFrom::Start(skip)).await?;
                    Ok::<_, std::io::Error>(file)
                };
                match opened.await {
                    Ok(file) => current = Some((file, len)),
                    Err(e) => return Some((Err(e), (Vec::new().into_iter(), None))),
                }
            }
        },
    )
}
