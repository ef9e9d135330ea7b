//! Search pages read ahead of the writer, so that a sync is bounded by JIRA's latency
//! and the requests it may have in flight rather than by its own writes.
//!
//! The sync still takes pages strictly in order, and a page's checkpoint is saved only
//! once it and every page before it are written (with the page, in one transaction, where
//! the store writes one page at a time; after it where several are written side by side:
//! see `sync::PageWrites`), so a checkpoint always covers a prefix of the pages. Reading
//! ahead only starts the requests of later pages early and keeps their answers until
//! they are asked for.
//!
//! Cloud's next page needs the token found in the current one, so at most one page is
//! read ahead there: the next, fetched while the current one is written. Data Center
//! pages by offset, so the pages of up to `read_ahead` issues are fetched ahead (never
//! fewer pages than the client's in-flight bound). The client's bound still limits how
//! many requests run at once; the other fetches wait their turn. Offsets are spaced by
//! the issues a page actually held: a server that caps `maxResults` returns short pages,
//! and offsets planned from the requested size are then dropped and planned again from
//! the next offset the short page gives. Offsets are planned only below the total the
//! last page reported, so a total that shrinks or grows during the run changes the plan
//! at the next page.
//!
//! [`Pages::read_through`] tells when every page of the current reading is asked for:
//! fetched to the end of the result (as the total of the page last taken puts it), each in
//! the client's line for a request or answered, failed or cancelled. A page answered later
//! may show the result goes on; [`Pages::fetches_started`] then grows, which is how a
//! caller tells. The census's listing of ids waits for that (see `sync::Listing`), so its
//! requests queue behind the last pages; with pages read far enough ahead, that comes
//! well before the last of them are written.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use std::task::Poll;

use tokio::sync::{oneshot, watch, Semaphore};
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

/// Where the reading of the query stands.
#[derive(Debug, Clone, Copy, Default)]
struct Reading {
    /// Fetches started and not yet in the client's line for a request, nor cancelled.
    out_of_line: usize,
    /// True once fetches were started for every page to the end of the result, as the
    /// total of the page last taken puts it.
    planned_to_end: bool,
    /// Fetches started since the pages were made, the readings before this one included.
    started: u64,
}

/// Counts a fetch as out of the client's line until it is in it or cancelled.
struct OutOfLine(Option<watch::Sender<Reading>>);

impl OutOfLine {
    fn in_line(&mut self) {
        if let Some(reading) = self.0.take() {
            reading.send_modify(|reading| reading.out_of_line -= 1);
        }
    }
}

impl Drop for OutOfLine {
    fn drop(&mut self) {
        self.in_line();
    }
}

/// Waits until every page of a reading is asked for; see [`Pages::read_through`].
#[derive(Debug)]
pub(crate) struct ReadThrough(watch::Receiver<Reading>);

impl ReadThrough {
    /// Waits until fetches were started for every page to the end of the result and all
    /// are in the client's line for a request (or answered, failed or cancelled), and
    /// gives [`Pages::fetches_started`] at that moment: the same number later means that
    /// no page was asked for since. `None` once the pages and all their fetches are
    /// dropped.
    ///
    /// Requests made after this queue behind every page of the reading, and take the
    /// client's places in flight as the last pages leave them, so none stays idle between
    /// the pages and what follows them (the census's listing waited for the pages to be
    /// answered: 40 to 90 ms with places idle, measured, on a sync of 101 pages).
    pub(crate) async fn wait(mut self) -> Option<u64> {
        let read = |reading: &Reading| reading.out_of_line == 0 && reading.planned_to_end;
        self.0.wait_for(read).await.ok().map(|reading| reading.started)
    }
}

/// The pages of one query, fetched ahead of the position asked for.
#[derive(Debug)]
pub(crate) struct Pages {
    client: JiraClient,
    jql: Arc<str>,
    /// Data Center: issues to fetch ahead at most.
    read_ahead: u64,
    /// Data Center: issues per page, the requested size until a page shows the cap.
    stride: u64,
    /// Data Center: the total the last page reported.
    total: Option<u64>,
    /// Fetches started, in the order their pages follow one another.
    ahead: VecDeque<Fetch>,
    reading: watch::Sender<Reading>,
    /// Fires once the fetch started last is in the client's line for a request; the next
    /// fetch waits for it (see [`Pages::start`]).
    last_in_line: Option<oneshot::Receiver<()>>,
    /// Places for fetches in the client: twice its in-flight bound (see [`Pages::start`]).
    in_client: Arc<Semaphore>,
}

impl Pages {
    /// Pages of `jql` read through `client`, with up to `read_ahead` issues fetched
    /// ahead where JIRA pages by offset.
    pub(crate) fn new(client: &JiraClient, jql: &str, read_ahead: usize) -> Pages {
        Pages {
            read_ahead: read_ahead as u64,
            stride: u64::from(client.config().page_size.max(1)),
            total: None,
            client: client.clone(),
            jql: Arc::from(jql),
            ahead: VecDeque::new(),
            reading: watch::Sender::new(Reading::default()),
            last_in_line: None,
            in_client: Arc::new(Semaphore::new(2 * client.config().max_in_flight.max(1))),
        }
    }

    /// A waiter for the moment every page of the reading under way (or, before the first
    /// page, of the first reading) is asked for.
    pub(crate) fn read_through(&self) -> ReadThrough {
        ReadThrough(self.reading.subscribe())
    }

    /// Fetches started so far; see [`ReadThrough::wait`].
    pub(crate) fn fetches_started(&self) -> u64 {
        self.reading.borrow().started
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
            None => {
                // A position nothing was planned for (a new reading, or one going on past
                // the plan): the end is not planned until this page shows where it is.
                self.reading.send_modify(|reading| reading.planned_to_end = false);
                self.start(cursor.clone())
            }
        };
        let page = wait(fetch).await;
        // Whatever was read ahead of a failed page is read again from the retried one.
        let page = page.inspect_err(|_| {
            self.ahead.clear();
            self.reading.send_modify(|reading| reading.planned_to_end = false);
        })?;
        self.plan_after(cursor, &page);
        Ok(page)
    }

    /// Starts the fetches of the pages after `page`, and drops those started for
    /// positions the page shows are not the next ones.
    fn plan_after(&mut self, cursor: &Cursor, page: &SearchPage) {
        let Some(next) = page.next.clone() else {
            self.ahead.clear();
            self.reading.send_modify(|reading| reading.planned_to_end = true);
            return;
        };
        let planned = match (cursor, &next) {
            (Cursor::Offset(_), Cursor::Offset(next)) => self.offsets_from(*next, page),
            _ => vec![next],
        };
        let to_end = match (planned.last(), self.total) {
            (Some(Cursor::Offset(last)), Some(total)) => last + self.stride >= total,
            _ => false,
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
        self.reading.send_modify(|reading| reading.planned_to_end = to_end);
    }

    /// The offsets to have fetched once the page before `next` is in hand: as many
    /// pages of the requested size as `read_ahead` issues fill (so that pages spaced by
    /// a smaller cap hold fewer, never more), and no fewer than the client asks for at
    /// once. Without a total, where the result ends is unknown, and no more than the
    /// client's bound of pages is fetched ahead; so too after a page whose size differs
    /// from the one before, until the next confirms it, so that one odd page does not
    /// plan a whole read-ahead on its spacing.
    fn offsets_from(&mut self, next: u64, page: &SearchPage) -> Vec<Cursor> {
        let held = page.issues.len() as u64;
        let confirmed = held == self.stride;
        if held > 0 {
            // A page that is not the last and holds fewer issues than asked shows the
            // server's cap; the offsets after it are spaced by what it held.
            self.stride = held;
        }
        self.total = page.total.or(self.total);
        let config = self.client.config();
        let in_flight = config.max_in_flight.max(1) as u64;
        let window = match self.total {
            Some(_) if confirmed => {
                (self.read_ahead / u64::from(config.page_size.max(1))).max(in_flight)
            }
            _ => in_flight,
        };
        let below_total = |offset: &u64| self.total.is_none_or(|total| *offset < total);
        (0..window)
            .map(|step| next + step * self.stride)
            .take_while(below_total)
            .map(Cursor::Offset)
            .collect()
    }

    /// Starts fetching the page at `cursor` in the background.
    ///
    /// Fetches ask JIRA in the order they were started. The client lets requests in
    /// first come, first served, up to its in-flight bound; tasks left to themselves
    /// would come in whatever order the runtime first runs them, which measured close to
    /// the reverse of the plan (with 50 pages planned, the one needed next was asked for
    /// last, 0.85 s later). So each fetch waits until the one started before it is in
    /// the client's line (or was dropped), then polls its request once, which takes it
    /// as far as that line (the field catalog it needs first is known by then: the
    /// first page loaded it), and lets the next one go.
    ///
    /// No more than twice the client's bound of fetches are in the client at once (its
    /// bound running, as many waiting; the others wait here, in order), so that the
    /// changelog lookups a page needs, and other work sharing the client, wait behind no
    /// more than that. A fetch keeps its place until its page is read and parsed, which
    /// also bounds the pages being parsed at once.
    fn start(&mut self, cursor: Cursor) -> Fetch {
        self.reading.send_modify(|reading| {
            reading.out_of_line += 1;
            reading.started += 1;
        });
        let mut out_of_line = OutOfLine(Some(self.reading.clone()));
        let client = self.client.clone();
        let jql = Arc::clone(&self.jql);
        let at = cursor.clone();
        let (in_line, next_in_line) = oneshot::channel();
        let before = self.last_in_line.replace(next_in_line);
        let in_client = Arc::clone(&self.in_client);
        let task = tokio::spawn(async move {
            if let Some(before) = before {
                // An error means the fetch before was dropped: the turn passes all the same.
                before.await.ok();
            }
            // The semaphore is never closed; its place is held until the page is read,
            // its changelog lookups included.
            let _place = in_client.acquire_owned().await.ok();
            let mut request = std::pin::pin!(client.search_page(&jql, &at));
            let first = std::future::poll_fn(|cx| Poll::Ready(request.as_mut().poll(cx))).await;
            in_line.send(()).ok();
            out_of_line.in_line();
            let page = match first {
                Poll::Ready(page) => page,
                Poll::Pending => request.await,
            };
            page
        });
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
