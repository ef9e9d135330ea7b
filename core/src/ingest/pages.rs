//! Search pages read ahead of the writer, so that a sync is bounded by JIRA's latency
//! and the requests it may have in flight rather than by its own writes.
//!
//! The sync still takes pages strictly in order and writes each with the checkpoint of
//! the next, so a checkpoint always covers a prefix of the pages; reading ahead only
//! starts the requests of later pages early and keeps their answers until they are
//! asked for. Nothing read ahead is written before the pages in front of it.
//!
//! Cloud's next page needs the token found in the current one, so at most one page is
//! read ahead there: the next, fetched while the current one is written. Data Center
//! pages by offset, so up to the client's in-flight bound of offsets is fetched ahead,
//! spaced by the issues a page actually held: a server that caps `maxResults` returns
//! short pages, and offsets planned from the requested size are then dropped and
//! planned again from the next offset the short page gives. Offsets are planned only
//! below the total the last page reported, so a total that shrinks or grows during the
//! run changes the plan at the next page.

use std::collections::VecDeque;
use std::sync::Arc;

use tokio::task::JoinHandle;

use crate::jira::client::JiraError;
use crate::jira::client::{Cursor, JiraClient, SearchPage};
use crate::Result;

/// A page request running in the background; dropping it cancels the request.
#[derive(Debug)]
struct Fetch {
    cursor: Cursor,
    task: JoinHandle<Result<SearchPage>>,
}

impl Drop for Fetch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The pages of one query, fetched ahead of the position asked for.
#[derive(Debug)]
pub(crate) struct Pages {
    client: JiraClient,
    jql: Arc<str>,
    /// Requests in flight at most, the one being waited for included.
    window: usize,
    /// Data Center: issues per page, the requested size until a page shows the cap.
    stride: u64,
    /// Data Center: the total the last page reported.
    total: Option<u64>,
    /// Fetches started, in the order their pages follow one another.
    ahead: VecDeque<Fetch>,
}

impl Pages {
    /// Pages of `jql` read through `client`, up to its in-flight bound ahead.
    pub(crate) fn new(client: &JiraClient, jql: &str) -> Pages {
        let config = client.config();
        Pages {
            window: config.max_in_flight.max(1),
            stride: u64::from(config.page_size.max(1)),
            total: None,
            client: client.clone(),
            jql: Arc::from(jql),
            ahead: VecDeque::new(),
        }
    }

    /// The page at `cursor`: the answer of a fetch started earlier when one was started
    /// for that cursor, else fetched now. Before returning, starts fetching the pages
    /// that follow it.
    pub(crate) async fn page(&mut self, cursor: &Cursor) -> Result<SearchPage> {
        while self.ahead.front().is_some_and(|fetch| fetch.cursor != *cursor) {
            self.ahead.pop_front();
        }
        let fetch = match self.ahead.pop_front() {
            Some(fetch) => fetch,
            None => self.start(cursor.clone()),
        };
        let page = wait(fetch).await;
        // Whatever was read ahead of a failed page is read again from the retried one.
        let page = page.inspect_err(|_| self.ahead.clear())?;
        self.plan_after(cursor, &page);
        Ok(page)
    }

    /// Starts the fetches of the pages after `page`, and drops those started for
    /// positions the page shows are not the next ones.
    fn plan_after(&mut self, cursor: &Cursor, page: &SearchPage) {
        let Some(next) = page.next.clone() else {
            self.ahead.clear();
            return;
        };
        let planned = match (cursor, &next) {
            (Cursor::Offset(_), Cursor::Offset(next)) => self.offsets_from(*next, page),
            _ => vec![next],
        };
        let mut kept = VecDeque::with_capacity(planned.len());
        let mut started = std::mem::take(&mut self.ahead);
        for cursor in planned {
            let found = started.iter().position(|fetch| fetch.cursor == cursor);
            let fetch = match found.and_then(|at| started.remove(at)) {
                Some(fetch) => fetch,
                None => self.start(cursor),
            };
            kept.push_back(fetch);
        }
        self.ahead = kept;
    }

    /// The offsets to have in flight once the page before `next` is in hand.
    fn offsets_from(&mut self, next: u64, page: &SearchPage) -> Vec<Cursor> {
        let held = page.issues.len() as u64;
        if held > 0 {
            // A page that is not the last and holds fewer issues than asked shows the
            // server's cap; the offsets after it are spaced by what it held.
            self.stride = held;
        }
        self.total = page.total.or(self.total);
        let below_total = |offset: &u64| self.total.is_none_or(|total| *offset < total);
        (0..self.window as u64)
            .map(|step| next + step * self.stride)
            .take_while(below_total)
            .map(Cursor::Offset)
            .collect()
    }

    fn start(&self, cursor: Cursor) -> Fetch {
        let client = self.client.clone();
        let jql = Arc::clone(&self.jql);
        let at = cursor.clone();
        let task = tokio::spawn(async move { client.search_page(&jql, &at).await });
        Fetch { cursor, task }
    }
}

async fn wait(mut fetch: Fetch) -> Result<SearchPage> {
    match (&mut fetch.task).await {
        Ok(page) => page,
        Err(fault) => Err(JiraError::Network {
            endpoint: "/rest/api/2/search".to_owned(),
            detail: format!("the search page task failed: {fault}"),
        }
        .into()),
    }
}
