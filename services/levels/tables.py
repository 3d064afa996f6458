"""Level management tables: cases, referrals and level decisions."""

from sqlalchemy import Boolean, Column, Date, Integer, MetaData, String, Table

metadata = MetaData()

cases = Table(
    "cases",
    metadata,
    Column("platform_id", String(64), primary_key=True),
    Column("category", Integer, nullable=False),
    # The MAPPA area managing the case: need-to-know and area policy key on it.
    Column("area", String(8), index=True),
    Column("lead_agency", String(16)),
    Column("level", Integer, nullable=False),
    Column("status", String(32), nullable=False),
    # Whether a level has been confirmed, by screening or by a decision.
    Column("confirmed", Boolean, nullable=False, default=False),
    Column("since", Date, nullable=False),
    Column("next_review_by", Date, index=True),
    Column("release_date", Date, index=True),
    Column("rosh", String(16)),
    Column("rosh_as_of", Date),
    # The level sought by an accepted referral not yet acted on.
    Column("accepted_referral_level", Integer),
    Column("closed_on", Date),
    # What a case closed by a merge goes back to if the merge is undone.
    Column("status_before_close", String(32)),
)

referrals = Table(
    "referrals",
    metadata,
    Column("platform_id", String(64), primary_key=True),
    Column("referral_ref", String(64), primary_key=True),
    Column("level_sought", Integer, nullable=False),
    Column("referring_agency", String(32), nullable=False),
    Column("reasons", String(2000), nullable=False),
    Column("current_rosh", String(16), nullable=False),
    Column("lower_level_insufficient", String(2000), nullable=False),
    Column("referred_on", Date, nullable=False),
    Column("referred_by", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("decision_reason", String(2000)),
    Column("decided_on", Date),
    Column("decided_by", String(64)),
)

# A merge of two records' cases: what the survivor's case was before it, for an unmerge to restore.
merges = Table(
    "case_merges",
    metadata,
    Column("merge_id", Integer, primary_key=True, autoincrement=False),
    Column("survivor", String(64), nullable=False),
    Column("absorbed", String(64), nullable=False, index=True),
    # No level: the survivor had no open case before the merge.
    Column("survivor_level", Integer),
    Column("survivor_status", String(32)),
    Column("survivor_confirmed", Boolean),
    Column("survivor_next_review_by", Date),
    Column("undone", Boolean, nullable=False, default=False),
)

decisions = Table(
    "level_decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("platform_id", String(64), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("level", Integer, nullable=False),
    Column("previous_level", Integer, nullable=False),
    Column("rationale", String(2000), nullable=False),
    Column("decided_on", Date, nullable=False),
    Column("decided_by", String(64), nullable=False),
    Column("decided_by_role", String(32), nullable=False),
    Column("authorised_by", String(64)),
    Column("authorised_by_role", String(32)),
)
