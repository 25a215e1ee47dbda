use super::named_enum;

/// How a request reached the desk: every channel opens cases through the same door, and
/// reports count each.
#[derive(sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    Email,
    Phone,
    Chat,
    Web,
}

named_enum!(Channel, "a channel", { Email => "email", Phone => "phone", Chat => "chat", Web => "web" });

impl Channel {
    /// One exchange on this channel, in words: "a phone call on case 000123".
    pub fn exchange(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Phone => "phone call",
            Channel::Chat => "chat",
            Channel::Web => "web form",
        }
    }
}
