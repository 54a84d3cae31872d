//! The two paging shapes the REST providers use, fetched as concurrently as they allow, so a
//! sync costs about `pages × latency ÷ concurrency` rather than `pages × latency`.
//!
//! - Numbered pages with a total (Datadog `meta.page.total_filtered_count`, Atlas `totalCount`):
//!   the first page tells how many there are; the rest are fetched at once (the provider's
//!   [`crate::http::Http`] semaphore bounds how many are in flight).
//! - Numbered pages without a total (Fastly automation tokens): fetched in batches of the
//!   allowed concurrency until a page comes back short.
//!
//! Cursor paging (New Relic) is inherently one request at a time; its connector splits the
//! listing into independent chains instead.

use std::future::Future;

use futures_util::future::try_join_all;

use crate::{ConnectorError, ErrorKind};

/// The most pages one listing may take (a million keys at the smallest page size here): a
/// provider's `total` or an endless run of full pages cannot make a sync spawn or loop without
/// bound.
pub const MAX_PAGES: usize = 10_000;

fn too_many(provider: &'static str, pages: usize) -> ConnectorError {
    ConnectorError::new(
        provider,
        ErrorKind::Malformed,
        format!("the listing claims {pages} pages or more, beyond the {MAX_PAGES} Keyward reads; nothing was stored"),
    )
}

/// One page: its items and, when the provider says, the total across all pages.
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// The total number of items, when reported.
    pub total: Option<usize>,
}

/// Every item of a numbered listing with a total. `first` is the first page's number (0 for
/// Datadog, 1 for Atlas).
pub async fn numbered<T, F, Fut>(
    provider: &'static str,
    first: usize,
    size: usize,
    fetch: F,
) -> Result<Vec<T>, ConnectorError>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Result<Page<T>, ConnectorError>>,
{
    let head = fetch(first).await?;
    let mut items = head.items;
    let Some(total) = head.total else {
        return Ok(items);
    };
    let pages = total.div_ceil(size.max(1));
    if pages > MAX_PAGES {
        return Err(too_many(provider, pages));
    }
    let rest = try_join_all((first + 1..first + pages.max(1)).map(&fetch)).await?;
    for page in rest {
        items.extend(page.items);
    }
    Ok(items)
}

/// Every item of a numbered listing without a total: batches of `batch` pages at once until one
/// comes back shorter than `size`.
pub async fn until_short<T, F, Fut>(
    provider: &'static str,
    first: usize,
    size: usize,
    batch: usize,
    fetch: F,
) -> Result<Vec<T>, ConnectorError>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Result<Page<T>, ConnectorError>>,
{
    let mut items = Vec::new();
    let mut next = first;
    loop {
        if next - first >= MAX_PAGES {
            return Err(too_many(provider, next - first));
        }
        let pages = try_join_all((next..next + batch.max(1)).map(&fetch)).await?;
        next += batch.max(1);
        for page in pages {
            let short = page.items.len() < size;
            items.extend(page.items);
            if short {
                return Ok(items);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_claimed_total_beyond_the_bound_is_refused_without_fetching_it() {
        let fetched = std::sync::atomic::AtomicUsize::new(0);
        let fetch = |_n: usize| {
            fetched.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            async { Ok(Page { items: vec![1u8], total: Some(usize::MAX / 2) }) }
        };
        let e = numbered("datadog", 0, 100, fetch).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Malformed);
        assert!(e.to_string().contains("beyond the 10000"), "{e}");
        assert_eq!(fetched.load(std::sync::atomic::Ordering::Relaxed), 1);
    }

    #[tokio::test]
    async fn endless_full_pages_stop_at_the_bound() {
        let fetch = |_n: usize| async { Ok(Page { items: vec![0u8; 2], total: None }) };
        let e = until_short("fastly", 1, 2, 8, fetch).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Malformed);
    }
}
