"""The follow-up rules: when to follow up with a contact next, and how.

Pure on purpose: the caller passes `today` and the settings, so every rule can be tested with
plain values and the adapters (workbook, digest, CLI) stay the only code that does I/O.

The courtesy guard: a Waiting for reply contact with `max_unanswered` follow-ups
already made is not nudged again. Its one gentle reopen date, anchor + `rest_days` (or Follow
up on, when set), is the FollowUp's next_date from the start, so the workbook shows when the
rest ends; until that day the status is Closed with a "give them space" action, and from that
day on it is Due today or Overdue like any other date, with a light, no-ask check-in.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from followup.core.channels import PHRASES, channel
from followup.core.model import Contact, FollowUp, HowMet, RuleSettings, Stage, Status

# Stages that end the schedule before any date is computed (rule 1).
_STOPPED: dict[Stage, Status] = {
    Stage.CLOSED: Status.CLOSED,
    Stage.DO_NOT_CONTACT: Status.CLOSED,
    Stage.PAUSED: Status.PAUSED,
}

# The wording. `{by}` is the channel phrase, `{referrer}` who introduced you.
_STAGE_ACTIONS: dict[Stage, str] = {
    Stage.CLOSED: "Closed: no follow-up planned.",
    Stage.DO_NOT_CONTACT: "Do not contact: no follow-ups, and keep them off every list.",
    Stage.PAUSED: "Paused: set Status back to Active when you want reminders again.",
    Stage.WAITING: "Send one polite nudge {by}, then give them space.",
    Stage.DECLINED: "A light touch {by} with something useful for them; no ask.",
}
_STEP_ACTIONS: dict[HowMet, tuple[str, ...]] = {
    HowMet.NETWORKING_EVENT: (
        "Send a short thank-you {by}: say you enjoyed meeting and offer to help.",
    ),
    HowMet.JOB_APPLICATION: (
        "Send a polite follow-up {by}: restate your interest and ask {seeking}.",
        "One last brief check-in {by}; offer a short informational conversation if the role"
        " has moved on.",
    ),
    HowMet.INFORMATIONAL_INTERVIEW: (
        "Send a thank-you {by}: name one piece of advice you will act on.",
        "Send a short update on how you used their advice {by}.",
    ),
    HowMet.REFERRAL: (
        "Thank {referrer} for the introduction, then send a short introduction note {by}.",
    ),
}
_LIGHT_CHECK_IN = "A light check-in {by} with something useful; no ask."
_RESTING_ACTION = "No reply after {count} follow-up{s}: give them space until {until}."
_CADENCE_ACTION = (
    "Check in {by} with something useful: an article, an introduction or congratulations."
)
_STEPS_DONE_ACTION = "No more follow-ups: give them space unless they get in touch."
_NEEDS_INFO_ACTION = "Add a Met on or Last contact date so followup can schedule this contact."


def follow_up(contact: Contact, today: date, settings: RuleSettings) -> FollowUp:
    """Apply rules 1-7 to one contact: the next follow-up date, its status and what to do."""
    if contact.stage in _STOPPED:
        return FollowUp(None, _STOPPED[contact.stage], 0, _STAGE_ACTIONS[contact.stage])

    resting = is_resting(contact, settings)
    delay, template = (settings.rest_days, _LIGHT_CHECK_IN) if resting else _plan(contact, settings)
    if contact.follow_up_on is not None:
        next_date = contact.follow_up_on
        if delay is None:  # the user asked for a reminder after the steps ran out
            template = _CADENCE_ACTION
    else:
        anchor = _anchor(contact)
        if anchor is None:
            return FollowUp(None, Status.NEEDS_INFO, 0, _NEEDS_INFO_ACTION)
        if delay is None:
            return FollowUp(None, Status.CLOSED, 0, _STEPS_DONE_ACTION)
        next_date = _skip_weekend(_later(anchor, delay), settings)

    if resting and next_date > today:
        count = touches_made(contact)
        action = _RESTING_ACTION.format(count=count, s="s" * (count != 1), until=next_date)
        return FollowUp(next_date, Status.CLOSED, 0, action)
    status = _classify(next_date, today, contact.stage, settings)
    days_overdue = (today - next_date).days if status is Status.OVERDUE else 0
    referrer = seeking = ""
    if _REFERRER in template:  # only then does the text depend on it (and the cache too)
        referrer = contact.referred_by.strip() or "whoever referred you"
    if _SEEKING in template:
        seeking = _ASK_SEEKING[hiring_role(contact)]
    action = _wording(template, PHRASES[channel(contact)], referrer, seeking)
    return FollowUp(next_date, status, days_overdue, action)


def hiring_role(contact: Contact) -> str:
    """ "hiring manager" or "recruiter" when the Role says the contact is one, else "": a hiring
    manager is not asked what the hiring manager is looking for."""
    role = " ".join(contact.role.casefold().split())
    if "hiring manager" in role:
        return "hiring manager"
    if "recruit" in role or "talent acquisition" in role or "talent partner" in role:
        return "recruiter"
    return ""


_ASK_SEEKING = {
    "": "what the hiring manager is looking for",
    "hiring manager": "what they are looking for in the role",
    "recruiter": "where your application stands and what the hiring manager is looking for",
}


def step_index(contact: Contact, settings: RuleSettings) -> int | None:
    """Which of the relationship's steps the next follow-up is (0: the first), or None once
    they are done or their moment has passed: when Follow up on lies more than the contact's
    cadence after the step's own date (an old connection whose first check-in an import set),
    the follow-up is a check-in, not a thank-you years late. Drafts pick their wording by it,
    so a draft always matches the action."""
    steps = settings.steps.get(contact.how_met, ())
    touches = _touches(contact, len(steps))
    if contact.replied_on is not None:  # you are in touch: no thank-you or introduction now
        touches = max(touches, 1)
    if touches >= len(steps):
        return None
    anchor, planned = _anchor(contact), contact.follow_up_on
    if anchor and planned:
        late = planned - _later(anchor, steps[touches])
        if late.days > _cadence(contact, settings):
            return None
    return touches


def clears_follow_up_on(contact: Contact, on: date, settings: RuleSettings) -> bool:
    """Whether a follow-up made `on` a day retires the contact's Follow up on: that date was a
    reminder to get in touch, and they just did, early or late. Only a date more than the
    contact's cadence after the follow-up stays: a reminder set that far ahead is for later."""
    planned = contact.follow_up_on
    return planned is not None and (planned - on).days <= _cadence(contact, settings)


def is_resting(contact: Contact, settings: RuleSettings) -> bool:
    """The courtesy guard: a Waiting contact already followed up `max_unanswered` times gets
    no more nudges, only one light check-in after the rest."""
    return contact.stage is Stage.WAITING and touches_made(contact) >= settings.max_unanswered


def _anchor(contact: Contact) -> date | None:
    """Last contact or their last reply, whichever is later, unless it predates Met on (a typo
    or an older acquaintance), else Met on."""
    last, met = contact.last_contact, contact.met_on
    if contact.replied_on is not None and (last is None or contact.replied_on > last):
        last = contact.replied_on
    if last is not None and (met is None or last >= met):
        return last
    return met


def _touches(contact: Contact, step_count: int) -> int:
    """Follow-ups already made: the column, the Log or what the dates imply, whichever is most."""
    if contact.met_on is None:
        implied = step_count  # nothing to count steps from, so treat them as done
    elif contact.last_contact is not None and contact.last_contact > contact.met_on:
        implied = 1
    else:
        implied = 0
    return max(contact.follow_ups, contact.logged_touches, implied)


def touches_made(contact: Contact) -> int:
    """Follow-ups made so far, as far as the data shows (`followup done` records one more, and
    the courtesy guard counts them for a contact who has not replied): no steps are assumed
    done when Met on is missing."""
    return _touches(contact, 0)


def _plan(contact: Contact, settings: RuleSettings) -> tuple[int | None, str]:
    """Days from the anchor to the next touch and its wording; None days means stop here."""
    if contact.stage in (Stage.DECLINED, Stage.WAITING):
        days = settings.declined_days if contact.stage is Stage.DECLINED else settings.nudge_days
        return days, _STAGE_ACTIONS[contact.stage]
    step = step_index(contact, settings)
    if step is not None:
        return settings.steps[contact.how_met][step], _step_action(contact.how_met, step)
    if contact.how_met in settings.stop_after_steps:
        return None, _STEPS_DONE_ACTION
    return _cadence(contact, settings), _CADENCE_ACTION


def _cadence(contact: Contact, settings: RuleSettings) -> int:
    """Days between check-ins: the contact's own Cadence, else their priority's."""
    return contact.cadence or settings.cadence.get(contact.priority.upper(), settings.cadence["B"])


def _step_action(how_met: HowMet, index: int) -> str:
    """The wording of step `index`; configured steps beyond the table reuse its last line."""
    wordings = _STEP_ACTIONS.get(how_met, ())
    return wordings[min(index, len(wordings) - 1)] if wordings else _CADENCE_ACTION


def _later(day: date, days: int) -> date:
    """`day` plus `days`, or the calendar's end when that is past it: the reader keeps dates
    within FIRST_DAY..LAST_DAY, but the rules must return for any date a cell can hold."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


def _skip_weekend(day: date, settings: RuleSettings) -> date:
    """Move a Saturday or Sunday to the following Monday when the settings ask for it."""
    if settings.skip_weekends and day.weekday() >= 5:
        return day + timedelta(days=7 - day.weekday())  # date.max is a Friday: no overflow
    return day


def _classify(next_date: date, today: date, stage: Stage, settings: RuleSettings) -> Status:
    """Rule 7: where the next follow-up date stands against today."""
    if next_date < today:
        return Status.OVERDUE
    if next_date == today:
        return Status.DUE_TODAY
    if stage is Stage.WAITING:
        return Status.WAITING
    if next_date <= _later(today, settings.lookahead_days):
        return Status.UPCOMING
    return Status.SCHEDULED


_REFERRER = "{referrer}"
_SEEKING = "{seeking}"


@lru_cache(maxsize=1024)
def _wording(template: str, by: str, referrer: str, seeking: str) -> str:
    """The action text. Cached: a whole workbook shares a few dozen texts, so 100,000 contacts
    cost a few dozen formatted strings instead of 100,000."""
    return template.format(by=by, referrer=referrer, seeking=seeking)
