//! `bugdash users`: accounts of the multi-user service, from the command line.
//!
//! Changes go through the same core rules as the service's admin API (password policy,
//! sessions ended on disable or new password). With Redis configured, a running service
//! sees them on its very next request; with the in-process cache, a running service may
//! serve a session it had cached for up to a minute more.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context as _;
use bugdash::auth::{Account, Auth, NewAccount, Role};
use bugdash::secret::Secret;
use clap::{Args, Subcommand};

use super::{print_json, print_lines, OutputFormat};
use crate::context::{open_store, runtime, GlobalArgs, Missing};
use crate::failure::UsageError;

/// Arguments of `bugdash users`.
#[derive(Debug, Args)]
pub struct UsersArgs {
    #[command(subcommand)]
    command: UsersCommand,
}

#[derive(Debug, Subcommand)]
enum UsersCommand {
    /// Create an account. Without --password, the password is asked twice on the terminal.
    Add(AddArgs),
    /// List the accounts.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
    },
    /// Disable an account: it cannot sign in, and its sessions end at once.
    Disable {
        /// Email of the account (any case).
        email: String,
    },
    /// Enable a disabled account.
    Enable {
        /// Email of the account (any case).
        email: String,
    },
    /// Set a new password; the account's sessions end.
    SetPassword {
        /// Email of the account (any case).
        email: String,
        /// The new password (visible to other users of this machine while the command
        /// runs; leave it out to be asked on the terminal).
        #[arg(long)]
        password: Option<String>,
    },
    /// Make an account a user or an admin.
    SetRole {
        /// Email of the account (any case).
        email: String,
        /// `user` or `admin`.
        role: String,
    },
}

/// Arguments of `bugdash users add`.
#[derive(Debug, Args)]
struct AddArgs {
    /// Email, unique without regard to case.
    #[arg(long)]
    email: String,
    /// Display name.
    #[arg(long)]
    name: String,
    /// Department.
    #[arg(long)]
    department: Option<String>,
    /// Make the account an admin.
    #[arg(long)]
    admin: bool,
    /// Password, 8 to 128 characters and not a common one (visible to other users of this
    /// machine while the command runs; leave it out to be asked on the terminal).
    #[arg(long)]
    password: Option<String>,
}

impl UsersArgs {
    /// Runs the subcommand against the configured store and cache.
    pub fn run(self, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
        let settings = global.settings()?;
        // Only `add` fills a store; the others need the accounts one already holds.
        let missing = match self.command {
            UsersCommand::Add(_) => Missing::Create,
            _ => Missing::Refuse,
        };
        runtime()?.block_on(async {
            let store = open_store(&settings, missing).await?;
            let cache = bugdash::cache::open(&settings.cache).await?;
            let auth = Auth::new(store, cache, &settings).await?;
            self.command.run(&auth).await
        })
    }
}

impl UsersCommand {
    async fn run(self, auth: &Auth) -> anyhow::Result<ExitCode> {
        match self {
            UsersCommand::Add(args) => add(auth, args).await?,
            UsersCommand::List { format } => list(auth, format).await?,
            UsersCommand::Disable { email } => {
                let account = find(auth, &email).await?;
                auth.set_active(account.id, false).await?;
                eprintln!("disabled {}; its sessions have ended", account.email);
            }
            UsersCommand::Enable { email } => {
                let account = find(auth, &email).await?;
                auth.set_active(account.id, true).await?;
                eprintln!("enabled {}", account.email);
            }
            UsersCommand::SetPassword { email, password } => {
                let account = find(auth, &email).await?;
                let password = password_from(password)?;
                auth.set_password(account.id, password).await.map_err(caller_fault)?;
                eprintln!("password of {} changed; its sessions have ended", account.email);
            }
            UsersCommand::SetRole { email, role } => {
                let role: Role = role.parse().map_err(caller_fault)?;
                let account = find(auth, &email).await?;
                auth.set_role(account.id, role).await?;
                eprintln!("{} is now {}", account.email, role.as_str());
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}

async fn add(auth: &Auth, args: AddArgs) -> anyhow::Result<()> {
    let password = password_from(args.password)?;
    let new = NewAccount {
        email: args.email,
        name: args.name,
        department: args.department,
        role: if args.admin { Role::Admin } else { Role::User },
        password,
    };
    let account = auth.create_account(new).await.map_err(caller_fault)?;
    eprintln!("created account {} for {} ({})", account.id, account.email, account.role.as_str());
    Ok(())
}

async fn list(auth: &Auth, format: OutputFormat) -> anyhow::Result<()> {
    let accounts = auth.accounts().await?;
    if format == OutputFormat::Json {
        return print_json(&accounts);
    }
    let mut lines = vec![format!(
        "{:>5}  {:<32} {:<24} {:<16} {:<6} {:<8} {}",
        "ID", "EMAIL", "NAME", "DEPARTMENT", "ROLE", "ACTIVE", "CREATED"
    )];
    for a in &accounts {
        lines.push(format!(
            "{:>5}  {:<32} {:<24} {:<16} {:<6} {:<8} {}",
            a.id,
            a.email,
            a.name,
            a.department.as_deref().unwrap_or("-"),
            a.role.as_str(),
            if a.active { "yes" } else { "no" },
            a.created_at.date(),
        ));
    }
    if accounts.is_empty() {
        lines.push("no accounts yet: use `bugdash users add`".into());
    }
    print_lines(&lines)
}

/// The account with this email, or a usage error naming it.
async fn find(auth: &Auth, email: &str) -> anyhow::Result<Account> {
    auth.account_by_email(email)
        .await?
        .ok_or_else(|| anyhow::Error::new(UsageError(format!("no account with email {email:?}"))))
}

/// The password given, or one typed twice on the terminal without echo.
fn password_from(given: Option<String>) -> anyhow::Result<Secret> {
    if let Some(password) = given {
        return Ok(Secret::new(password));
    }
    if !std::io::stdin().is_terminal() {
        return Err(UsageError(
            "no --password given and standard input is not a terminal to ask for one".into(),
        )
        .into());
    }
    let first = rpassword::prompt_password("Password: ").context("failed to read the password")?;
    let second =
        rpassword::prompt_password("Password again: ").context("failed to read the password")?;
    if first != second {
        return Err(UsageError("the two passwords differ".into()).into());
    }
    Ok(Secret::new(first))
}

/// Core errors that are the caller's to fix become usage errors (exit code 2).
fn caller_fault(error: bugdash::Error) -> anyhow::Error {
    match error {
        bugdash::Error::Conflict { .. }
        | bugdash::Error::NotFound { .. }
        | bugdash::Error::InvalidParameter { .. } => UsageError(error.to_string()).into(),
        other => other.into(),
    }
}
