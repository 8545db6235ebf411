//! Balances: what each user may still spend, the budgets of team groups, and the ledger of every
//! movement. A user's balance is always the sum of its movements and never negative; sends draw
//! their cost from their sender's balance in the transaction that creates them, and credits and
//! cost changes move it back in the transaction that records them (see `giftwire-store`'s flows).

use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;
use jiff::Timestamp;

use crate::error::{InvalidValue, StoreError};
use crate::ids::{OrgId, SendId, TeamId, UserId};
use crate::money::{Amount, Money};
use crate::store::Team;

/// Why a balance moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MovementKind {
    /// Funds the sends a user made before balances existed (written by the migration that
    /// introduced them, followed by the draw of those sends).
    Opening,
    /// An operator added funds (or, negative, withdrew them).
    Fund,
    /// A send's cost at its creation (or the sends of a bulk load, together).
    Send,
    /// The fulfillment endpoint changed a send's cost: the difference.
    CostChange,
    /// A credited or refunded status gave the send's cost back.
    Credit,
}

impl MovementKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MovementKind::Opening => "opening",
            MovementKind::Fund => "fund",
            MovementKind::Send => "send",
            MovementKind::CostChange => "cost_change",
            MovementKind::Credit => "credit",
        }
    }
}

impl FromStr for MovementKind {
    type Err = InvalidValue;

    fn from_str(s: &str) -> Result<MovementKind, InvalidValue> {
        Ok(match s {
            "opening" => MovementKind::Opening,
            "fund" => MovementKind::Fund,
            "send" => MovementKind::Send,
            "cost_change" => MovementKind::CostChange,
            "credit" => MovementKind::Credit,
            _ => return Err(InvalidValue::new("movement kind", s)),
        })
    }
}

impl fmt::Display for MovementKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A movement to make: recorded in the ledger in the transaction that applies it.
#[derive(Debug, Clone)]
pub struct NewMovement {
    pub user: UserId,
    pub kind: MovementKind,
    pub amount: Amount,
    pub send: Option<SendId>,
    pub note: Option<String>,
    pub at: Timestamp,
}

impl NewMovement {
    /// The largest balance (the largest [`Money`] amount): funds beyond it are refused.
    pub const MAX_BALANCE: Money = Money::MAX;

    /// Why this movement cannot be made from `balance`: a draw it cannot cover, or funds that
    /// would take it beyond [`NewMovement::MAX_BALANCE`].
    pub fn refusal(&self, balance: Money) -> StoreError {
        if !self.amount.is_draw() {
            return StoreError::Refused(format!(
                "The balance of user {} ({balance}) cannot grow by {} beyond {}",
                self.user.get(),
                self.amount,
                Self::MAX_BALANCE
            ));
        }
        self.insufficient(balance)
    }

    /// The message of a draw the balance cannot cover.
    pub fn insufficient(&self, balance: Money) -> StoreError {
        let what = match self.kind {
            MovementKind::Send if self.send.is_some() => "the send costs",
            MovementKind::Send => "the sends cost",
            MovementKind::CostChange => "the new cost needs",
            _ => "the withdrawal needs",
        };
        StoreError::Refused(format!(
            "Insufficient balance: {what} {}, and the balance of user {} is {balance}",
            self.amount.magnitude(),
            self.user.get()
        ))
    }
}

/// One line of a user's ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Movement {
    pub id: i64,
    pub user: UserId,
    pub kind: MovementKind,
    pub amount: Amount,
    /// The balance right after this movement.
    pub balance: Money,
    pub send: Option<SendId>,
    pub note: Option<String>,
    pub at: Timestamp,
}

/// What a team group may spend: shown by `GET /api/v3/groups`, managed by `giftwire team budget`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TeamBudget {
    pub monthly: Money,
    pub one_time: Money,
    /// Whether an unspent monthly budget rolls over into the next month.
    pub rollover: bool,
}

#[async_trait]
pub trait BalanceStore: Send + Sync + 'static {
    /// Applies operators' movements (kind [`MovementKind::Fund`]) in one transaction, all or
    /// none: a positive amount adds funds, a negative one withdraws them. A withdrawal the balance
    /// cannot cover is `Refused`.
    async fn fund(
        &self,
        org: OrgId,
        movements: Vec<NewMovement>,
    ) -> Result<Vec<Movement>, StoreError>;
    /// A user's movements, oldest first, and the balance they add up to.
    async fn ledger(&self, org: OrgId, user: UserId) -> Result<(Money, Vec<Movement>), StoreError>;
    async fn set_team_budget(
        &self,
        org: OrgId,
        team: TeamId,
        budget: TeamBudget,
        at: Timestamp,
    ) -> Result<Team, StoreError>;
}
