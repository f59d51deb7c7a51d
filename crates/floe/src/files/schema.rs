//! Wire types of the files API, named after the spec's schemas.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::entity::Model;
use crate::storage::{Bucket, ObjectStorage, PresignedRequest};

/// `FileServiceTypes`: what a file is for, which decides its bucket and its rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileServiceTypes {
    Downloadable,
    ProductMedia,
    OrganizationAvatar,
    SupportCaseAttachment,
}

impl FileServiceTypes {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Downloadable => "downloadable",
            Self::ProductMedia => "product_media",
            Self::OrganizationAvatar => "organization_avatar",
            Self::SupportCaseAttachment => "support_case_attachment",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "downloadable" => Self::Downloadable,
            "product_media" => Self::ProductMedia,
            "organization_avatar" => Self::OrganizationAvatar,
            "support_case_attachment" => Self::SupportCaseAttachment,
            _ => return None,
        })
    }

    /// Product media and avatars are shown on public pages; everything else is private.
    pub fn bucket(self) -> Bucket {
        match self {
            Self::ProductMedia | Self::OrganizationAvatar => Bucket::Public,
            Self::Downloadable | Self::SupportCaseAttachment => Bucket::Private,
        }
    }
}

/// `FileCreate` (all four variants share their fields; `service` tells them apart).
#[derive(Debug, Deserialize)]
pub struct FileCreate {
    pub service: FileServiceTypes,
    #[serde(default)]
    pub organization_id: Option<Uuid>,
    pub name: String,
    pub mime_type: String,
    pub size: i64,
    #[serde(default)]
    pub checksum_sha256_base64: Option<String>,
    pub upload: S3FileCreateMultipart,
    #[serde(default)]
    pub version: Option<String>,
}

/// `S3FileCreateMultipart`.
#[derive(Debug, Deserialize)]
pub struct S3FileCreateMultipart {
    pub parts: Vec<S3FileCreatePart>,
}

/// `S3FileCreatePart`: `[chunk_start, chunk_end)` of the file.
#[derive(Debug, Deserialize)]
pub struct S3FileCreatePart {
    pub number: i64,
    pub chunk_start: i64,
    pub chunk_end: i64,
    #[serde(default)]
    pub checksum_sha256_base64: Option<String>,
}

/// `FileUploadCompleted`.
#[derive(Debug, Deserialize)]
pub struct FileUploadCompleted {
    pub id: String,
    pub path: String,
    pub parts: Vec<S3FileUploadCompletedPart>,
}

/// `S3FileUploadCompletedPart`.
#[derive(Debug, Deserialize)]
pub struct S3FileUploadCompletedPart {
    pub number: i64,
    pub checksum_etag: String,
    #[serde(default)]
    pub checksum_sha256_base64: Option<String>,
}

/// `FilePatch`: a name or version that is absent or null stays as it is, as in Polar.
#[derive(Debug, Deserialize)]
pub struct FilePatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
}

/// The fields every file schema starts with (`S3File` in Polar).
#[derive(Clone, Debug, Serialize)]
pub struct FileBase {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: String,
    pub path: String,
    pub mime_type: String,
    pub size: i64,
    pub storage_version: Option<String>,
    pub checksum_etag: Option<String>,
    pub checksum_sha256_base64: Option<String>,
    pub checksum_sha256_hex: Option<String>,
    pub last_modified_at: Option<DateTime<Utc>>,
}

impl FileBase {
    fn from_row(row: &Model) -> Self {
        Self {
            id: row.id,
            organization_id: row.organization_id,
            name: row.name.clone(),
            path: row.path.clone(),
            mime_type: row.mime_type.clone(),
            size: row.size,
            storage_version: row.storage_version.clone(),
            checksum_etag: row.checksum_etag.clone(),
            checksum_sha256_base64: row.checksum_sha256_base64.clone(),
            checksum_sha256_hex: row.checksum_sha256_hex.clone(),
            last_modified_at: row.last_modified_at,
        }
    }
}

/// `FileRead`: one of `DownloadableFileRead`, `ProductMediaFileRead`,
/// `OrganizationAvatarFileRead`, `SupportCaseAttachmentFileRead`, told apart by `service`.
#[derive(Clone, Debug, Serialize)]
pub struct FileRead {
    #[serde(flatten)]
    pub base: FileBase,
    pub version: Option<String>,
    pub service: FileServiceTypes,
    pub is_uploaded: bool,
    pub created_at: DateTime<Utc>,
    /// Only downloadables carry it (as null until a file is flagged).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flagged_malicious_at: Option<Option<DateTime<Utc>>>,
    pub size_readable: String,
    /// Only public files (product media, avatars) have one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
}

impl FileRead {
    pub fn from_row(row: &Model, storage: &dyn ObjectStorage) -> Self {
        let service = service_of(row);
        Self {
            base: FileBase::from_row(row),
            version: row.version.clone(),
            service,
            is_uploaded: row.is_uploaded,
            created_at: row.created_at,
            flagged_malicious_at: (service == FileServiceTypes::Downloadable)
                .then_some(row.flagged_malicious_at),
            size_readable: size_readable(row.size),
            public_url: (service.bucket() == Bucket::Public).then(|| storage.public_url(&row.path)),
        }
    }
}

/// `FileUpload`: the file and its upload plan with one presigned URL per part.
#[derive(Debug, Serialize)]
pub struct FileUpload {
    #[serde(flatten)]
    pub base: FileBase,
    pub upload: S3FileUploadMultipart,
    pub version: Option<String>,
    pub is_uploaded: bool,
    pub service: FileServiceTypes,
    pub size_readable: String,
}

/// `S3FileUploadMultipart`.
#[derive(Debug, Serialize)]
pub struct S3FileUploadMultipart {
    pub id: String,
    pub path: String,
    pub parts: Vec<S3FileUploadPart>,
}

/// `S3FileUploadPart`.
#[derive(Debug, Serialize)]
pub struct S3FileUploadPart {
    pub number: u32,
    pub chunk_start: u64,
    pub chunk_end: u64,
    pub checksum_sha256_base64: Option<String>,
    pub url: String,
    pub expires_at: DateTime<Utc>,
    pub headers: std::collections::BTreeMap<String, String>,
}

impl FileUpload {
    pub fn new(row: &Model, parts: Vec<S3FileUploadPart>) -> Self {
        Self {
            base: FileBase::from_row(row),
            upload: S3FileUploadMultipart {
                id: row.upload_id.clone(),
                path: row.path.clone(),
                parts,
            },
            version: row.version.clone(),
            is_uploaded: row.is_uploaded,
            service: service_of(row),
            size_readable: size_readable(row.size),
        }
    }
}

/// `FileDownload`: the file and a presigned URL to fetch it.
#[derive(Debug, Serialize)]
pub struct FileDownload {
    #[serde(flatten)]
    pub base: FileBase,
    pub download: S3DownloadUrl,
    pub version: Option<String>,
    pub is_uploaded: bool,
    pub service: FileServiceTypes,
    pub size_readable: String,
}

/// `S3DownloadURL`.
#[derive(Debug, Serialize)]
pub struct S3DownloadUrl {
    pub url: String,
    pub headers: std::collections::BTreeMap<String, String>,
    pub expires_at: DateTime<Utc>,
}

impl FileDownload {
    pub fn new(row: &Model, presigned: PresignedRequest) -> Self {
        Self {
            base: FileBase::from_row(row),
            download: S3DownloadUrl {
                url: presigned.url,
                headers: presigned.headers.into_iter().collect(),
                expires_at: presigned.expires_at,
            },
            version: row.version.clone(),
            is_uploaded: row.is_uploaded,
            service: service_of(row),
            size_readable: size_readable(row.size),
        }
    }
}

/// The stored service name is always one floe wrote; an unknown one (a row from a later
/// version after a downgrade) reads as a downloadable, the most private kind.
pub fn service_of(row: &Model) -> FileServiceTypes {
    FileServiceTypes::from_name(&row.service).unwrap_or(FileServiceTypes::Downloadable)
}

/// Polar's `human_readable_size`: 1024-based, one decimal, e.g. `1.5 MB`.
///
/// Python formats the float `size / 1024^k` to one decimal, rounding the exact binary value
/// half to even. Dividing by a power of two is exact, so the same digits come from integer
/// arithmetic, without the float formatter (which was 2% of a file list's CPU).
pub fn size_readable(size: i64) -> String {
    const UNITS: [&str; 9] = ["", "K", "M", "G", "T", "P", "E", "Z", "Y"];
    let magnitude = size.unsigned_abs();
    let mut exponent = 0;
    while exponent < UNITS.len() - 1 && magnitude >> (10 * exponent) >= 1024 {
        exponent += 1;
    }
    let divisor = 1u128 << (10 * exponent);
    let scaled = u128::from(magnitude) * 10;
    let (mut tenths, remainder) = (scaled / divisor, scaled % divisor);
    if remainder * 2 > divisor || (remainder * 2 == divisor && tenths % 2 == 1) {
        tenths += 1;
    }
    let sign = if size < 0 { "-" } else { "" };
    format!("{sign}{}.{} {}B", tenths / 10, tenths % 10, UNITS[exponent])
}

#[cfg(test)]
mod tests {
    use super::size_readable;

    #[test]
    fn sizes_read_as_polar_writes_them() {
        assert_eq!(size_readable(0), "0.0 B");
        assert_eq!(size_readable(1023), "1023.0 B");
        assert_eq!(size_readable(1024), "1.0 KB");
        assert_eq!(size_readable(1536), "1.5 KB");
        assert_eq!(size_readable(10 * 1024 * 1024), "10.0 MB");
        assert_eq!(size_readable(1 << 30), "1.0 GB");
        // Halfway cases round to even, as Python's formatting does: 5376 B is 5.25 KB.
        assert_eq!(size_readable(5376), "5.2 KB");
        assert_eq!(size_readable(5376 + 1024), "6.2 KB");
        assert_eq!(size_readable(1023 * 1024 + 1023), "1024.0 KB");
    }

    #[test]
    fn integer_digits_match_float_formatting() {
        // The float formatter rounds the exact value half to even too; compare over sizes
        // from every unit, halfway cases included.
        let float = |size: i64| {
            let mut value = size as f64;
            for unit in ["", "K", "M", "G", "T", "P", "E", "Z"] {
                if value.abs() < 1024.0 {
                    return format!("{value:.1} {unit}B");
                }
                value /= 1024.0;
            }
            format!("{value:.1} YB")
        };
        let mut size: i64 = 0;
        while size < (1 << 52) {
            for probe in [size, size + 256, size + 512, size + 51, size + 52] {
                assert_eq!(size_readable(probe), float(probe), "{probe}");
            }
            size = size * 3 / 2 + 97;
        }
    }
}
