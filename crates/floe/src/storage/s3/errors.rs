//! What the store's answers mean for floe's callers: a 4xx is the client's doing (a
//! clear 4xx from floe), a 5xx or no answer is the store's (503, or 504 on a timeout, both
//! retryable).

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

use crate::storage::StorageError;

/// Any call's error.
pub fn sdk_error<E>(error: SdkError<E, HttpResponse>) -> StorageError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match &error {
        SdkError::TimeoutError(_) => StorageError::Timeout(describe(&error)),
        SdkError::DispatchFailure(failure) if failure.is_timeout() => {
            StorageError::Timeout(describe(&error))
        }
        SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            StorageError::Unavailable(describe(&error))
        }
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            if (400..500).contains(&status) {
                // HEAD answers carry no error document: say what the status means.
                let code = service.err().code().unwrap_or(match status {
                    403 => "AccessDenied",
                    404 => "NotFound",
                    _ => "",
                });
                let message = service.err().message().unwrap_or(match status {
                    403 => "check the access key, the secret key and the region",
                    404 => "check that the bucket exists",
                    _ => "",
                });
                StorageError::Rejected(format!(
                    "The object store refused the request ({status} {code}): {message}"
                ))
            } else {
                StorageError::Unavailable(describe(&error))
            }
        }
        _ => StorageError::Internal(anyhow::anyhow!(describe(&error))),
    }
}

/// An error of a call on a multipart upload, where `NoSuchUpload` has its own meaning.
pub fn upload_error<E>(error: SdkError<E, HttpResponse>) -> StorageError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if let SdkError::ServiceError(service) = &error
        && service.err().code() == Some("NoSuchUpload")
    {
        return StorageError::NoSuchUpload;
    }
    sdk_error(error)
}

fn describe<E>(error: &SdkError<E, HttpResponse>) -> String
where
    E: std::error::Error + 'static,
{
    // The SDK's Display says only "dispatch failure"; the source chain says why.
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
