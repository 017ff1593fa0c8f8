"""Customer accounts, their domains, contacts and field values."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse


class AccountSource(models.TextChoices):
    MANUAL = "manual", "Created by a user"
    SLACK = "slack", "Slack"
    EMAIL = "email", "Email"
    WEB_CHAT = "web_chat", "Web chat"
    API = "api", "API"
    CRM = "crm", "CRM"
    IMPORT = "import", "Import"


class AccountStatus(models.TextChoices):
    """Where the account is on its way from a won deal to launch, and after.

    `none` is an account never onboarded (one found in a customer's message, say).
    """

    NONE = "none", "Not onboarded"
    PENDING_HANDOFF = "pending_handoff", "Pending handoff"
    ACTIVE = "active", "Active"
    AT_RISK = "at_risk", "At risk"
    COMPLETED = "completed", "Completed"
    CHURNED = "churned", "Churned"


class CompanySize(models.TextChoices):
    """Employee count ranges, as sales segments them."""

    SMB = "1-50", "1-50 (SMB)"
    MID_MARKET = "51-500", "51-500 (Mid-Market)"
    ENTERPRISE = "501-5000", "501-5000 (Enterprise)"
    GLOBAL = "5000+", "5000+ (Global Enterprise)"

    @classmethod
    def for_employees(cls, count: int) -> "CompanySize":
        """Return the range *count* employees fall in."""
        if count <= 50:
            return cls.SMB
        if count <= 500:
            return cls.MID_MARKET
        if count <= 5000:
            return cls.ENTERPRISE
        return cls.GLOBAL


class CrmProvider(models.TextChoices):
    HUBSPOT = "hubspot", "HubSpot"
    SALESFORCE = "salesforce", "Salesforce"


class CrmSyncStatus(models.TextChoices):
    """Where an account's CRM link stands: a hand-entered id is only mapped until a sync ran."""

    NOT_MAPPED = "not_mapped", "Not mapped"
    MAPPED = "mapped", "Mapped, not synced yet"
    SYNCED = "synced", "Synced"
    FAILING = "failing", "Sync failing"


class Account(models.Model):
    """A customer organisation, identified by its domains and optionally linked to the CRM.

    `primary_domain` is unique, so the database itself refuses a second account with the
    same primary domain, even when two requests race. Secondary domains live in
    AccountDomain and may be shared. `contact_count` and `search_text` are kept by the
    services so the directory can sort and search without aggregating per row.
    """

    name = models.CharField(max_length=200)
    primary_domain = models.CharField(max_length=253, unique=True, null=True, blank=True)
    logo = models.FileField(upload_to="logos/", blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_accounts",
    )
    csm = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="csm_accounts",
        verbose_name="CSM",
    )
    status = models.CharField(
        max_length=16, choices=AccountStatus.choices, default=AccountStatus.NONE
    )
    source = models.CharField(
        max_length=16, choices=AccountSource.choices, default=AccountSource.MANUAL
    )
    industry = models.CharField(max_length=100, blank=True)
    # Picks the account's SLA policy (rapport.metrics.SlaPolicy.tier); empty: the default.
    # The database default keeps bulk inserts that predate the column (bench seeds) valid.
    tier = models.CharField(max_length=50, blank=True, default="", db_default="", db_index=True)
    employee_count = models.PositiveIntegerField(null=True, blank=True)
    # Derived from employee_count when that is known (rapport.accounts.services).
    company_size = models.CharField(max_length=10, choices=CompanySize.choices, blank=True)
    arr = models.DecimalField(
        "ARR", max_digits=14, decimal_places=2, null=True, blank=True, help_text="Annual revenue."
    )
    close_date = models.DateField(null=True, blank=True)
    renewal_date = models.DateField(null=True, blank=True)
    website = models.URLField(blank=True)
    notes = models.TextField(blank=True)

    external_ref = models.CharField(
        "External reference",
        max_length=100,
        blank=True,
        help_text="The customer's id in another system of ours (billing, product).",
    )
    crm_provider = models.CharField(max_length=16, choices=CrmProvider.choices, blank=True)
    crm_external_id = models.CharField("CRM company id", max_length=100, blank=True)
    crm_company_name = models.CharField("Company in CRM", max_length=200, blank=True)
    crm_sync_status = models.CharField(
        max_length=16, choices=CrmSyncStatus.choices, default=CrmSyncStatus.NOT_MAPPED
    )
    crm_last_synced_at = models.DateTimeField(null=True, blank=True)
    crm_sync_error = models.TextField(blank=True)

    contact_count = models.PositiveIntegerField(default=0, editable=False)
    search_text = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = (Lower("name"), "id")
        indexes = [
            models.Index(Lower("name"), "id", name="account_name_lower_idx"),
            models.Index(fields=["owner", "id"], name="account_owner_idx"),
            models.Index(fields=["csm", "id"], name="account_csm_idx"),
            models.Index(fields=["renewal_date", "id"], name="account_renewal_idx"),
            models.Index(fields=["crm_sync_status", "id"], name="account_crm_status_idx"),
            models.Index(fields=["crm_company_name", "id"], name="account_crm_company_idx"),
            models.Index(fields=["crm_external_id"], name="account_crm_external_idx"),
            models.Index(fields=["status", "id"], name="account_status_idx"),
            models.Index(fields=["source", "id"], name="account_source_idx"),
            models.Index(fields=["industry", "id"], name="account_industry_idx"),
            models.Index(fields=["contact_count", "id"], name="account_contact_count_idx"),
            models.Index(fields=["arr", "id"], name="account_arr_idx"),
            models.Index(fields=["created_at", "id"], name="account_created_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["external_ref"],
                condition=~models.Q(external_ref=""),
                name="account_external_ref_unique",
            ),
            models.UniqueConstraint(
                fields=["crm_provider", "crm_external_id"],
                condition=~models.Q(crm_external_id=""),
                name="account_crm_link_unique",
            ),
            models.CheckConstraint(
                condition=~models.Q(name=""),
                name="account_name_not_empty",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("accounts:detail", args=[self.pk])

    @property
    def crm_mapped(self) -> bool:
        return bool(self.crm_external_id)


class AccountDomain(models.Model):
    """A secondary domain of an account. Unlike a primary domain, it may be shared."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(max_length=253)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("domain",)
        constraints = [
            models.UniqueConstraint(fields=["account", "domain"], name="account_domain_unique"),
        ]
        indexes = [models.Index(fields=["domain"], name="account_domain_domain_idx")]

    def __str__(self) -> str:
        return self.domain


class ContactKind(models.TextChoices):
    CRM_CONTACT = "crm_contact", "CRM contact"
    PRODUCT_USER = "product_user", "Product user"
    CUSTOMER = "customer", "Customer"


class Contact(models.Model):
    """A person on the customer side; one person may belong to several accounts."""

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=200, blank=True)
    title = models.CharField(max_length=200, blank=True)
    kind = models.CharField(
        max_length=16, choices=ContactKind.choices, default=ContactKind.CUSTOMER
    )
    accounts = models.ManyToManyField(Account, through="AccountContact", related_name="contacts")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("name", "email")

    def __str__(self) -> str:
        return self.name or self.email


class AccountContact(models.Model):
    """Membership of a contact in an account."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "contact"], name="account_contact_unique")
        ]
        indexes = [models.Index(fields=["contact", "account"], name="account_contact_rev_idx")]

    def __str__(self) -> str:
        return f"{self.contact_id} in {self.account_id}"


class FieldSource(models.TextChoices):
    CRM = "crm", "CRM field"
    RAPPORT = "rapport", "Rapport field"


class FieldType(models.TextChoices):
    TEXT = "text", "Text"
    NUMBER = "number", "Number"
    DATE = "date", "Date"
    CHOICE = "choice", "Single choice"


class FieldDefinition(models.Model):
    """An extra account field: pulled from the CRM (read-only here) or defined by an admin."""

    key = models.SlugField(max_length=64, unique=True)
    label = models.CharField(max_length=100)
    source = models.CharField(max_length=16, choices=FieldSource.choices)
    type = models.CharField(max_length=16, choices=FieldType.choices, default=FieldType.TEXT)
    choices = models.JSONField(default=list, blank=True)
    crm_property = models.CharField(
        max_length=100, blank=True, help_text="Property name in the CRM, for CRM fields."
    )
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("source", "position", "label")

    def __str__(self) -> str:
        return self.label


class FieldValue(models.Model):
    """The value of one extra field for one account, in the column of its type."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="field_values")
    field = models.ForeignKey(FieldDefinition, on_delete=models.CASCADE, related_name="values")
    # NULL (not "") marks "no text value", like the number and date columns.
    value_text = models.CharField(max_length=500, null=True, blank=True)  # noqa: DJ001
    value_number = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    value_date = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "field"], name="field_value_unique")
        ]
        # Filters and sorts on a field scan its values in order, then join to the account.
        indexes = [
            models.Index(fields=["field", "value_text", "account"], name="field_value_text_idx"),
            models.Index(fields=["field", "value_number", "account"], name="field_value_num_idx"),
            models.Index(fields=["field", "value_date", "account"], name="field_value_date_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.field_id}={self.value}"

    @property
    def value(self) -> object:
        if self.value_number is not None:
            return self.value_number
        if self.value_date is not None:
            return self.value_date
        return self.value_text
