//! Send statuses: the seed's nineteen plus `Expired`, which the seed's own example uses.

string_enum! {
    /// The status of a send. `Pending` is the implicit state before any status update.
    pub enum SendStatus ("status") {
        AddressConfirmationCancelled => "Address Confirmation - Cancelled",
        BouncedAndCredited => "Bounced and Credited",
        Cancelled => "Cancelled",
        Clicked => "Clicked",
        CollectingRecipientInfo => "Collecting recipient info",
        ConfirmingAddress => "Confirming Address",
        Delivered => "Delivered",
        ExpiredAndCredited => "Expired and Credited",
        Failed => "Failed",
        Opened => "Opened",
        Packed => "Packed",
        Paused => "Paused",
        Processing => "Processing",
        Refunded => "Refunded",
        Sent => "Sent",
        Shipped => "Shipped",
        Undeliverable => "Undeliverable",
        Used => "Used",
        Pending => "pending",
        Expired => "Expired",
    }
}

impl SendStatus {
    /// Nothing follows a final status, and its cost is frozen.
    pub const fn is_final(self) -> bool {
        matches!(
            self,
            SendStatus::Used
                | SendStatus::Expired
                | SendStatus::ExpiredAndCredited
                | SendStatus::BouncedAndCredited
                | SendStatus::Cancelled
                | SendStatus::AddressConfirmationCancelled
                | SendStatus::Delivered
                | SendStatus::Refunded
        )
    }

    /// The credited and refunded statuses set the cost to `0.0` as they happen.
    pub const fn zeroes_cost(self) -> bool {
        matches!(
            self,
            SendStatus::BouncedAndCredited | SendStatus::ExpiredAndCredited | SendStatus::Refunded
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_are_the_seeds_nineteen_and_expired() {
        assert_eq!(SendStatus::ALL.len(), 20);
        assert_eq!(
            "pending".parse::<SendStatus>().unwrap(),
            SendStatus::Pending
        );
        assert!("Pending".parse::<SendStatus>().is_err());
        assert_eq!(
            "Expired".parse::<SendStatus>().unwrap(),
            SendStatus::Expired
        );
    }

    #[test]
    fn the_final_statuses_are_the_eight_of_the_contract() {
        let finals: Vec<_> = SendStatus::ALL
            .iter()
            .filter(|s| s.is_final())
            .map(|s| s.as_str())
            .collect();
        assert_eq!(
            finals,
            [
                "Address Confirmation - Cancelled",
                "Bounced and Credited",
                "Cancelled",
                "Delivered",
                "Expired and Credited",
                "Refunded",
                "Used",
                "Expired"
            ]
        );
        assert!(
            SendStatus::ALL
                .iter()
                .filter(|s| s.zeroes_cost())
                .all(|s| s.is_final())
        );
    }
}
