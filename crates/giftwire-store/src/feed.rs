//! What both backends share in reading filtered sends: how a filter with alternatives becomes a
//! union of single-valued ones.
//!
//! A page is the filter's sends in `org_seq` order. With one status (and at most one touch)
//! that is one ordered range of an index, read only as far as the page; with several, no index
//! holds them in that order, and the database would scan the organization. So each alternative
//! (a status, a touch of the type asked for) becomes an arm read along its own index, each only
//! as deep as the page reaches, and the arms are merged.

use giftwire_core::{SendFilter, SendStatus, TouchId};

/// The most arms a union may have; beyond it the filter is read as one query.
const MAX_ARMS: usize = 32;

/// Which sends of the filter a read takes, in `org_seq` order.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Window {
    /// `limit` sends after the first `offset` (a page).
    Page { offset: u64, limit: u32 },
    /// `limit` sends whose position is after `after` (an export's chunk).
    After { after: u64, limit: u32 },
}

impl Window {
    /// How many of an arm's first sends the window can need.
    pub(crate) fn depth(self) -> u64 {
        match self {
            Window::Page { offset, limit } => offset + u64::from(limit),
            Window::After { limit, .. } => u64::from(limit),
        }
    }
}

/// How a filter is read: as it is, or as arms (each with at most one status and at most one
/// touch, and no type). `type_touches` are the touches of the filter's type, when it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Plan {
    Whole,
    Arms(Vec<SendFilter>),
}

pub(crate) fn plan(filter: &SendFilter, type_touches: Option<&[TouchId]>) -> Plan {
    let touches: Vec<Option<TouchId>> = match (filter.send_type, type_touches) {
        (Some(_), Some(of_type)) => of_type
            .iter()
            .copied()
            .filter(|t| filter.touch.is_none_or(|only| only == *t))
            .map(Some)
            .collect(),
        _ => vec![filter.touch],
    };
    let statuses: Vec<Option<SendStatus>> = if filter.statuses.is_empty() {
        vec![None]
    } else {
        filter.statuses.iter().copied().map(Some).collect()
    };
    let arms = touches.len() * statuses.len();
    if arms > MAX_ARMS || (arms == 1 && filter.send_type.is_none()) {
        return Plan::Whole;
    }
    let mut out = Vec::with_capacity(arms);
    for touch in &touches {
        for status in &statuses {
            out.push(SendFilter {
                statuses: status.iter().copied().collect(),
                send_type: None,
                touch: *touch,
                ..filter.clone()
            });
        }
    }
    Plan::Arms(out)
}

#[cfg(test)]
mod tests {
    use giftwire_core::SendType;

    use super::*;

    #[test]
    fn alternatives_become_arms_and_single_values_stay_whole() {
        let one = SendFilter {
            statuses: vec![SendStatus::Sent],
            ..SendFilter::default()
        };
        assert_eq!(plan(&one, None), Plan::Whole);
        let two = SendFilter {
            statuses: vec![SendStatus::Sent, SendStatus::Opened],
            sender: Some(giftwire_core::UserId::new(3)),
            ..SendFilter::default()
        };
        let Plan::Arms(arms) = plan(&two, None) else {
            panic!("two statuses are two arms")
        };
        assert_eq!(arms.len(), 2);
        assert_eq!(arms[1].statuses, [SendStatus::Opened]);
        assert_eq!(arms[1].sender, two.sender);

        let typed = SendFilter {
            send_type: Some(SendType::EgiftsUsa),
            statuses: vec![SendStatus::Sent, SendStatus::Opened],
            ..SendFilter::default()
        };
        let touches = [TouchId::new(1), TouchId::new(2), TouchId::new(3)];
        let Plan::Arms(arms) = plan(&typed, Some(&touches)) else {
            panic!("a type is its touches")
        };
        assert_eq!(arms.len(), 6);
        assert!(
            arms.iter()
                .all(|a| a.send_type.is_none() && a.touch.is_some())
        );
        // A type without touches holds nothing; a touch of another type neither.
        assert_eq!(plan(&typed, Some(&[])), Plan::Arms(vec![]));
        let other_touch = SendFilter {
            touch: Some(TouchId::new(9)),
            ..typed.clone()
        };
        assert_eq!(plan(&other_touch, Some(&touches)), Plan::Arms(vec![]));
        let many: Vec<TouchId> = (1..=40).map(TouchId::new).collect();
        assert_eq!(plan(&typed, Some(&many)), Plan::Whole);
    }
}
