//! Shim until the session's tab messages move to serde: the hand-written
//! reading and writing of [`IdTokenClaims`] that `session/tokens.rs` still
//! calls. It goes with this module.

use super::{BadField, Fields, Value, Writer, strings};
use crate::protocol::{Audience, IdTokenClaims};

impl IdTokenClaims {
    /// Reads the claims from a JSON object.
    pub(crate) fn read(fields: &Fields<'_>) -> Result<Self, BadField> {
        let aud = match fields.get("aud")? {
            Some(Value::String(aud)) => Audience::One(aud.clone()),
            Some(many) => strings(many).map(Audience::Many).ok_or(BadField("aud"))?,
            None => return Err(BadField("aud")),
        };
        Ok(Self {
            iss: fields.str("iss")?,
            sub: fields.str("sub")?,
            aud,
            exp: fields.i64("exp")?,
            iat: fields.i64("iat")?,
            nbf: fields.opt_i64("nbf")?,
            auth_time: fields.opt_i64("auth_time")?,
            nonce: fields.opt_str("nonce")?,
            azp: fields.opt_str("azp")?,
            at_hash: fields.opt_str("at_hash")?,
            name: fields.opt_str("name")?,
            preferred_username: fields.opt_str("preferred_username")?,
            email: fields.opt_str("email")?,
        })
    }

    /// Writes the claims as a JSON object (what [`read`](Self::read) reads).
    pub(crate) fn write(&self, writer: &mut Writer) {
        writer
            .open()
            .str_member("iss", &self.iss)
            .str_member("sub", &self.sub)
            .key("aud");
        match &self.aud {
            Audience::One(aud) => {
                writer.str(aud);
            }
            Audience::Many(auds) => {
                writer.open_array();
                for aud in auds {
                    writer.str(aud);
                }
                writer.close_array();
            }
        }
        writer
            .key("exp")
            .int(self.exp)
            .key("iat")
            .int(self.iat)
            .opt_int_member("nbf", self.nbf)
            .opt_int_member("auth_time", self.auth_time)
            .opt_str_member("nonce", self.nonce.as_deref())
            .opt_str_member("azp", self.azp.as_deref())
            .opt_str_member("at_hash", self.at_hash.as_deref())
            .opt_str_member("name", self.name.as_deref())
            .opt_str_member("preferred_username", self.preferred_username.as_deref())
            .opt_str_member("email", self.email.as_deref())
            .close();
    }
}
