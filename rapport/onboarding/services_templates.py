"""Writes of onboarding templates: create, edit (a new version each time), and compare.

A version is never changed once written, and a plan copies the version it was made
from, so an edit reaches only the plans made after it.
"""

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models.functions import Lower

from rapport.audit.services import audit_record
from rapport.core.errors import Conflict, InvalidInput, NotFound
from rapport.onboarding.content import content_clean
from rapport.onboarding.models import Template, TemplateVersion
from rapport.users.models import User

NAME_MAX = 200
DESCRIPTION_MAX = 2000


def _name_clean(name: Any) -> str:
    if not isinstance(name, str) or not " ".join(name.split()):
        raise InvalidInput("Name needs a value.", field="name")
    name = " ".join(name.split())
    if len(name) > NAME_MAX:
        raise InvalidInput(f"Name is at most {NAME_MAX} characters.", field="name")
    return name


def _description_clean(description: Any) -> str:
    if description is None:
        return ""
    if not isinstance(description, str):
        raise InvalidInput("Description must be text.", field="description")
    if len(description.strip()) > DESCRIPTION_MAX:
        raise InvalidInput(
            f"Description is at most {DESCRIPTION_MAX:,} characters.", field="description"
        )
    return description.strip()


def _name_taken(name: str, *, exclude: int | None = None) -> Conflict | None:
    others = Template.objects.filter(name__iexact=name)
    other = (others.exclude(pk=exclude) if exclude is not None else others).first()
    if other is None:
        return None
    return Conflict(f"A template named “{other.name}” exists already.", field="name")


def template_create(
    *,
    actor: User | None,
    name: str,
    milestones: Any,
    questions: Any = (),
    description: str = "",
) -> Template:
    """Create a template with its first version."""
    name = _name_clean(name)
    description = _description_clean(description)
    milestone_data, question_data = content_clean(milestones, list(questions))
    if conflict := _name_taken(name):
        raise conflict
    try:
        with transaction.atomic():
            template = Template.objects.create(name=name, description=description)
            TemplateVersion.objects.create(
                template=template,
                number=1,
                milestones=milestone_data,
                questions=question_data,
                created_by=actor,
            )
            audit_record(
                actor=actor,
                action="template.create",
                obj=template,
                changes={
                    "name": {"before": None, "after": name},
                    "version": {"before": None, "after": 1},
                },
            )
    except IntegrityError:
        if conflict := _name_taken(name):
            raise conflict from None
        raise
    return template


def template_edit(
    *,
    actor: User | None,
    template: Template,
    name: str | None = None,
    description: str | None = None,
    milestones: Any = None,
    questions: Any = None,
) -> TemplateVersion:
    """Change a template; new milestones or questions make a new version, which is returned.

    Plans already made keep the version they copied. Left out (None), a part stays as
    the current version has it.
    """
    with transaction.atomic():
        template = Template.objects.select_for_update().get(pk=template.pk)
        current = template_current_version(template)
        changes: dict[str, dict[str, Any]] = {}
        if name is not None:
            cleaned = _name_clean(name)
            if cleaned != template.name:
                if conflict := _name_taken(cleaned, exclude=template.pk):
                    raise conflict
                changes["name"] = {"before": template.name, "after": cleaned}
                template.name = cleaned
        if description is not None:
            cleaned = _description_clean(description)
            if cleaned != template.description:
                changes["description"] = {"before": template.description, "after": cleaned}
                template.description = cleaned
        milestone_data, question_data = content_clean(
            current.milestones if milestones is None else milestones,
            current.questions if questions is None else questions,
        )
        version = current
        if milestone_data != current.milestones or question_data != current.questions:
            version = TemplateVersion.objects.create(
                template=template,
                number=current.number + 1,
                milestones=milestone_data,
                questions=question_data,
                created_by=actor,
            )
            changes["version"] = {"before": current.number, "after": version.number}
        if changes:
            template.save()
            audit_record(actor=actor, action="template.update", obj=template, changes=changes)
    return version


def template_current_version(template: Template) -> TemplateVersion:
    """Return the newest version of *template*."""
    version = template.versions.order_by("-number").first()
    if version is None:  # every template is created with a version
        raise NotFound(f"The template “{template.name}” has no version.")
    return version


def template_find(reference: int | str) -> Template:
    """Return the template with this id, or this name (any case), or raise NotFound."""
    text = str(reference).strip()
    if text.isdigit() and len(text) < 19:
        template = Template.objects.filter(pk=int(text)).first()
    else:
        wanted = " ".join(str(reference).split()).lower()
        template = Template.objects.annotate(lower=Lower("name")).filter(lower=wanted).first()
    if template is None:
        raise NotFound(
            f"No onboarding template is named or numbered “{reference}”.", field="template"
        )
    return template
