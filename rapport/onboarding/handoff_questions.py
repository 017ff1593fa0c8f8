"""The standard handoff questions and the sets that Rapport's shipped templates ask.

Keys are stable: a drafter, a template version and an account's plan all refer to a
question by its key, so a key is never renamed once shipped.
"""

from rapport.onboarding.questions import Question, QuestionKind

PRIMARY_GOAL = Question(
    key="primary_goal",
    text="What is the customer trying to achieve with Rapport?",
    kind=QuestionKind.LONG_TEXT,
)
PRIMARY_USE_CASE = Question(
    key="primary_use_case",
    text="What is the primary use case?",
    kind=QuestionKind.CHOICE,
    choices=("Onboarding", "Renewals", "Support escalations", "Health monitoring"),
)
PLAN = Question(
    key="plan",
    text="Which plan did the customer buy?",
    kind=QuestionKind.CHOICE,
    choices=("Starter", "Growth", "Enterprise"),
)
NUMBER_OF_USERS = Question(
    key="number_of_users",
    text="How many users will use Rapport?",
)
GO_LIVE_DATE = Question(
    key="go_live_date",
    text="What is the target go-live date?",
)
INTEGRATIONS = Question(
    key="integrations",
    text="Which tools must Rapport integrate with?",
)
DATA_MIGRATION = Question(
    key="data_migration",
    text="Does data need to be migrated from an existing tool?",
    kind=QuestionKind.YES_NO,
)
SUCCESS_CRITERIA = Question(
    key="success_criteria",
    text="How will the customer measure success?",
    kind=QuestionKind.LONG_TEXT,
)
SUPPORT_TIER = Question(
    key="support_tier",
    text="Which support tier did the customer buy?",
    kind=QuestionKind.CHOICE,
    choices=("Standard", "Premium", "Platinum"),
)
EXECUTIVE_SPONSOR = Question(
    key="executive_sponsor",
    text="Who is the executive sponsor?",
)
SSO_REQUIRED = Question(
    key="sso_required",
    text="Does the customer require single sign-on (SSO)?",
    kind=QuestionKind.YES_NO,
)
SECURITY_REVIEW = Question(
    key="security_review",
    text="Does the customer require a security review?",
    kind=QuestionKind.YES_NO,
)
COMPETITOR_REPLACED = Question(
    key="competitor_replaced",
    text="Which tool or competitor is Rapport replacing?",
)
RISKS = Question(
    key="risks",
    text="What risks or concerns came up during the sale?",
    kind=QuestionKind.LONG_TEXT,
)

STANDARD_SAAS_QUESTIONS: tuple[Question, ...] = (
    PRIMARY_GOAL,
    PRIMARY_USE_CASE,
    PLAN,
    NUMBER_OF_USERS,
    GO_LIVE_DATE,
    INTEGRATIONS,
    DATA_MIGRATION,
    SUCCESS_CRITERIA,
)
# The enterprise set asks everything the standard one does, then the depth a larger
# rollout needs: who sponsors it, what security gates it, what it replaces.
ENTERPRISE_QUESTIONS: tuple[Question, ...] = (
    *STANDARD_SAAS_QUESTIONS,
    SUPPORT_TIER,
    EXECUTIVE_SPONSOR,
    SSO_REQUIRED,
    SECURITY_REVIEW,
    COMPETITOR_REPLACED,
    RISKS,
)
QUICK_START_QUESTIONS: tuple[Question, ...] = (
    PRIMARY_GOAL,
    PRIMARY_USE_CASE,
    NUMBER_OF_USERS,
    GO_LIVE_DATE,
    DATA_MIGRATION,
)

TEMPLATE_QUESTIONS: dict[str, tuple[Question, ...]] = {
    "standard_saas": STANDARD_SAAS_QUESTIONS,
    "enterprise": ENTERPRISE_QUESTIONS,
    "quick_start": QUICK_START_QUESTIONS,
}
