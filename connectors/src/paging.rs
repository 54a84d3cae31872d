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

use crate::ConnectorError;

/// One page: its items and, when the provider says, the total across all pages.
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// The total number of items, when reported.
    pub total: Option<usize>,
}

/// Every item of a numbered listing with a total. `first` is the first page's number (0 for
/// Datadog, 1 for Atlas).
pub async fn numbered<T, F, Fut>(first: usize, size: usize, fetch: F) -> Result<Vec<T>, ConnectorError>
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
    let rest = try_join_all((first + 1..first + pages.max(1)).map(&fetch)).await?;
    for page in rest {
        items.extend(page.items);
    }
    Ok(items)
}

/// Every item of a numbered listing without a total: batches of `batch` pages at once until one
/// comes back shorter than `size`.
pub async fn until_short<T, F, Fut>(first: usize, size: usize, batch: usize, fetch: F) -> Result<Vec<T>, ConnectorError>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Result<Page<T>, ConnectorError>>,
{
    let mut items = Vec::new();
    let mut next = first;
    loop {
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
