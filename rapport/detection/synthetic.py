"""Compose customer-success messages from hand-written parts, for training only.

The public corpora teach that a message with any content is a request, because their
label-0 rows are nearly all short closers. Customer conversations are full of
statements that ask for nothing ("the export works again", "we'll roll out to sales
next week"). Here the same subjects and actions appear on both sides, with a problem
or an ask on one and a neutral report or plan on the other, so that the detector
learns what makes the difference rather than the topic. All parts were written for
Rapport; none is taken from a corpus.
"""

import random
from collections.abc import Sequence
from dataclasses import dataclass

# Written parts, packed for reading rather than one per line.
# fmt: off
THINGS = (
    "the export", "CSV export", "our SSO", "SSO login", "the dashboard", "the reports page",
    "the Salesforce sync", "the HubSpot integration", "webhooks", "the API", "the mobile app",
    "search", "email notifications", "the inbox", "the billing page", "the importer",
    "the Chrome extension", "health scores", "the playbooks", "calendar sync", "2FA",
    "password reset", "the admin panel", "user invites", "the daily digest", "the usage report",
    "custom fields", "the accounts list", "the activity timeline", "the Slack integration",
    "the Zendesk connector", "the NPS survey", "the forecast view", "the renewal dashboard",
    "task reminders", "the audit log", "the data sync", "the customer portal", "the chat widget",
    "the Outlook add-in", "scheduled reports", "the segment builder", "the Jira integration",
    "bulk edit", "the login page", "our workspace", "the onboarding checklist", "saved filters",
)
PROBLEMS = (
    "stopped working", "keeps failing", "keeps crashing", "won't load", "isn't loading",
    "is broken", "is down", "is throwing errors", "throws a 500", "returns a 403", "times out",
    "is super slow", "is really laggy", "is stuck on loading", "shows a blank page",
    "shows the wrong numbers", "shows duplicate entries", "is missing data", "is out of date",
    "isn't syncing", "hasn't updated since Friday", "disappeared", "is greyed out",
    "doesn't show up anymore", "is not working for anyone", "fails silently", "errors out",
    "gives me an error", "keeps logging us out", "doesn't save anything", "is empty",
    "still shows last week's data", "sends everything twice", "isn't sending anything",
    "is acting up", "is behaving weirdly", "broke after the update", "no longer works",
    "has been flaky all day", "is unusable right now", "won't connect", "rejects valid input",
)
NEUTRAL = (
    "is working again", "works great now", "is back to normal", "looks good", "looks great",
    "is live for everyone", "is up and running", "is set up", "is configured on our side",
    "has been rolled out to the team", "is fixed", "was fixed yesterday", "is loading fine",
    "is much faster now", "is really useful", "has been super helpful", "saved us a ton of time",
    "went smoothly", "is exactly what we needed", "finished without errors", "ran fine overnight",
    "is connected", "is syncing properly", "has been stable all week",
    "is used by the whole team now", "was turned off on our side", "was updated by our admin",
    "is in good shape", "got a lot of praise internally", "is part of our weekly review now",
    "behaves as expected", "is all sorted",
)
WHEN = (
    "", "", "", " since this morning", " again", " today", " since yesterday", " for everyone",
    " for some of our users", " since the last release", " on our end", " this week",
    " after the update", " right now",
)
PROBLEM_TAILS = (
    "", "", "", " - can someone take a look?", ", any idea?", " :(", " :disappointed:",
    ". We're blocked.", "!!", ", please help", " for us", ". Is this a known issue?", " 😕",
    ". Can you check?", "...", " :sob:",
)
NEUTRAL_TAILS = (
    "", "", "", " 🎉", " :tada:", ", thanks!", ". Thanks again", " 👍", " :white_check_mark:",
    ", fyi", ". Great work", " :)", ". No action needed.", ". Just letting you know.",
)
PEOPLE = (
    "I", "we", "our team", "our admins", "my colleague", "nobody here", "some users", "our CSMs",
    "the new hires", "our finance team", "half the team", "our managers",
)
UNABLE = (
    "can't", "cannot", "are unable to", "still can't", "can no longer", "aren't able to",
    "couldn't", "don't seem to be able to", "keep failing to",
)
ABLE = (
    "can now", "are able to", "managed to", "finally got to", "started to", "can finally",
    "were able to", "just learned how to", "like being able to",
)
ACTIONS = (
    "log in", "export reports", "see the dashboard", "access the admin panel", "invite new users",
    "reset passwords", "connect Salesforce", "upload files", "download invoices", "save changes",
    "find the settings", "create playbooks", "edit custom fields", "receive notifications",
    "open conversations", "merge accounts", "filter by owner", "sync calendars",
    "view the audit log", "assign tasks",
)
ASK_OPENERS = (
    "can you", "could you", "could someone", "would you be able to", "is it possible to", "please",
    "can we", "we need to", "I need to", "I'd like to", "we'd like to", "how do I", "how can we",
    "is there a way to", "any way to", "what's the best way to", "where can I", "can I",
    "could we", "pls", "we want to", "I was wondering if you could", "help me",
    "would it be possible to", "do you know how to", "who can",
)
ASKS = (
    "add 5 seats", "reset my 2FA", "export all contacts", "change the account owner",
    "enable SSO for our workspace", "update our billing address", "send the invoice again",
    "extend our trial", "add a new admin", "remove a user", "turn off the digest",
    "restore a deleted playbook", "get API access", "set up the Slack integration",
    "merge two accounts", "rename our workspace", "move our data to the EU region",
    "schedule a training", "get a copy of the contract", "bulk update owners",
    "raise our rate limit", "unlock jane's account", "re-run the sync",
    "switch us to annual billing", "delete the test workspace", "share the roadmap",
)
PLANS = (
    "I'll", "we'll", "we're going to", "we decided to", "our admin will", "I managed to",
    "just wanted to let you know we'll", "we plan to", "next week we'll", "our IT team will",
    "we already", "no need to", "we don't need to", "I just", "we might", "we'll probably",
    "we're planning to",
)
PLAN_TAILS = (
    "", "", " next week", " ourselves", " tomorrow", " after the holidays", " in Q3",
    " once legal signs off", " this afternoon", ", no action needed from you", " 👍",
)
RECORDS = (
    "invoice", "refund", "account", "workspace", "request", "ticket", "seat increase",
    "trial extension", "new admin", "API key", "export", "data migration", "password reset",
    "SSO configuration", "credit note", "contract", "order form", "subscription", "sandbox",
    "upgrade", "renewal", "PO", "access request", "backfill",
)
DONE = (
    "has been processed", "is confirmed", "has been approved", "is ready", "has been updated",
    "was sent to your inbox", "is scheduled for Monday", "has been completed", "is now active",
    "was renewed", "has been escalated to engineering", "went through", "is all set",
    "was applied this morning", "is live", "has been shared with your team",
)
PENDING = (
    "been processed yet", "been approved", "gone through", "been sent", "been applied",
    "been completed", "been set up", "been renewed", "been escalated",
)
COUNTED = (
    "open tickets", "pending invites", "unpaid invoices", "active users", "accounts at risk",
    "failed syncs", "scheduled reports", "admins", "unused seats", "custom fields",
    "integrations connected", "renewals this quarter",
)
PLACES = (
    "on your account", "in the workspace", "this month", "in the EU region", "as of today",
    "on the Business plan", "in your sandbox", "across both workspaces",
)
FEATURES = (
    "the export button", "SSO", "the audit log", "the API", "bulk edit", "the sandbox",
    "the Salesforce connector", "custom roles", "the digest", "webhook retries", "data residency",
    "the mobile app", "two-factor authentication", "the usage report",
)
FACTS = (
    "is in the top right corner", "is included in the Business plan",
    "is under Settings > Security", "is only available to admins",
    "is limited to 1000 requests per minute", "is available in the EU and US regions",
    "comes with the Enterprise plan", "is enabled by default", "runs every night at 2am UTC",
    "is free for up to 5 users", "was released last month", "supports Okta and Azure AD",
    "keeps data for 12 months", "is on the roadmap for Q3",
)
FACT_QUESTIONS = (
    "where is", "is", "how do I find", "does", "what plan includes", "who can use", "when was",
    "how long does", "what does it cost to get",
)
OURS = (
    "our plan is Business", "our renewal date is March 3", "we have 45 seats", "our admin is Lena",
    "our workspace ID is ws_1182", "our billing cycle is annual", "our region is EU",
    "we have two workspaces", "our contract ends in June", "our main contact is Omar",
    "we're on version 4.2", "our team uses Salesforce",
)
OUR_QUESTIONS = (
    "what's our plan?", "when is our renewal date?", "how many seats do we have?",
    "who is our admin?", "what's our workspace ID?", "is our billing cycle annual?",
    "which region are we in?", "can we have two workspaces?", "when does our contract end?",
    "who is our main contact?", "which version are we on?", "does our plan include Salesforce?",
)
GREETINGS = (
    "", "", "", "", "hey ", "hi team, ", "Morning! ", "<@U04QRS1> ", "Hi all, ", "fyi ",
)
# fmt: on


@dataclass(frozen=True)
class Composed:
    """One composed message and its label."""

    text: str
    label: int


def messages_compose(count: int, *, seed: int) -> list[Composed]:
    """Return *count* composed messages, half requests and half not, in a fixed order."""
    rng = random.Random(seed)  # noqa: S311 (reproducible sampling, not secrets)
    makers = (
        _problem,
        _neutral,
        _unable,
        _able,
        _ask,
        _plan,
        _record_pending,
        _record_done,
        _fact_question,
        _fact,
        _ours_question,
        _ours,
    )
    return [makers[index % len(makers)](rng) for index in range(count)]


_QUESTION_OPENERS = frozenset(
    ("can", "could", "how", "is", "any", "what's", "where", "would", "do", "who")
)


def _pick(rng: random.Random, options: Sequence[str]) -> str:
    return options[rng.randrange(len(options))]


def _problem(rng: random.Random) -> Composed:
    text = _pick(rng, THINGS) + " " + _pick(rng, PROBLEMS) + _pick(rng, WHEN)
    return Composed(_pick(rng, GREETINGS) + text + _pick(rng, PROBLEM_TAILS), 1)


def _neutral(rng: random.Random) -> Composed:
    text = _pick(rng, THINGS) + " " + _pick(rng, NEUTRAL) + _pick(rng, WHEN)
    return Composed(_pick(rng, GREETINGS) + text + _pick(rng, NEUTRAL_TAILS), 0)


def _unable(rng: random.Random) -> Composed:
    text = _pick(rng, PEOPLE) + " " + _pick(rng, UNABLE) + " " + _pick(rng, ACTIONS)
    return Composed(_pick(rng, GREETINGS) + text + _pick(rng, WHEN) + _pick(rng, PROBLEM_TAILS), 1)


def _able(rng: random.Random) -> Composed:
    text = _pick(rng, PEOPLE) + " " + _pick(rng, ABLE) + " " + _pick(rng, ACTIONS)
    return Composed(_pick(rng, GREETINGS) + text + _pick(rng, NEUTRAL_TAILS), 0)


def _ask(rng: random.Random) -> Composed:
    opener = _pick(rng, ASK_OPENERS)
    question = opener.split()[0].lower() in _QUESTION_OPENERS
    end = "?" if question and rng.random() < 0.6 else ""
    text = opener + " " + _pick(rng, ASKS) + end
    return Composed(_pick(rng, GREETINGS) + text, 1)


def _plan(rng: random.Random) -> Composed:
    text = _pick(rng, PLANS) + " " + _pick(rng, ASKS) + _pick(rng, PLAN_TAILS)
    return Composed(_pick(rng, GREETINGS) + text, 0)


def _record_done(rng: random.Random) -> Composed:
    owner = _pick(rng, ("Your", "The", "your", "the", "Our", "our"))
    text = f"{owner} {_pick(rng, RECORDS)} {_pick(rng, DONE)}"
    if rng.random() < 0.3:
        text = f"There are {rng.randrange(2, 40)} {_pick(rng, COUNTED)} {_pick(rng, PLACES)}"
    return Composed(_pick(rng, GREETINGS) + text + _pick(rng, NEUTRAL_TAILS), 0)


def _record_pending(rng: random.Random) -> Composed:
    owner = _pick(rng, ("our", "my", "the"))
    if rng.random() < 0.3:
        text = f"how many {_pick(rng, COUNTED)} are there {_pick(rng, PLACES)}"
    elif rng.random() < 0.5:
        text = f"has {owner} {_pick(rng, RECORDS)} {_pick(rng, PENDING)}"
    else:
        text = f"{owner} {_pick(rng, RECORDS)} hasn't {_pick(rng, PENDING)}"
        return Composed(_pick(rng, GREETINGS) + text + _pick(rng, PROBLEM_TAILS), 1)
    return Composed(_pick(rng, GREETINGS) + text + ("?" if rng.random() < 0.6 else ""), 1)


def _fact(rng: random.Random) -> Composed:
    text = _pick(rng, FEATURES) + " " + _pick(rng, FACTS)
    return Composed(_pick(rng, GREETINGS) + text + _pick(rng, NEUTRAL_TAILS), 0)


def _fact_question(rng: random.Random) -> Composed:
    text = _pick(rng, FACT_QUESTIONS) + " " + _pick(rng, FEATURES)
    return Composed(_pick(rng, GREETINGS) + text + ("?" if rng.random() < 0.6 else ""), 1)


def _ours(rng: random.Random) -> Composed:
    return Composed(_pick(rng, GREETINGS) + _pick(rng, OURS) + _pick(rng, NEUTRAL_TAILS), 0)


def _ours_question(rng: random.Random) -> Composed:
    text = _pick(rng, OUR_QUESTIONS)
    if rng.random() < 0.4:
        text = text.rstrip("?")
    return Composed(_pick(rng, GREETINGS) + text, 1)
