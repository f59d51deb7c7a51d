"""Custom fields through the official Python SDK: every type with its properties, slugs
unique per organization, updates that keep the type, deletion, the list's filters and
sorting, and the 422s that name the faulty field. (Tenancy, scopes and fuzzing of these
operations come from the contract sweep.)"""

import uuid

import pytest
from polar.v2026_10.errors import HTTPValidationError, ResourceNotFound


def slug():
    return f"f-{uuid.uuid4().hex[:10]}"


def locs(error):
    return [list(d.loc) for d in error.value.error.detail]


def test_every_type_round_trips(org):
    made = [
        org.polar.custom_fields.create(type="text", slug=slug(), name="Company", properties={
            "form_label": "Your company", "textarea": True, "min_length": 2, "max_length": 80}),
        org.polar.custom_fields.create(type="number", slug=slug(), name="Seats", properties={"ge": 1, "le": 500}),
        org.polar.custom_fields.create(type="date", slug=slug(), name="Start", properties={"ge": 1767225600}),
        org.polar.custom_fields.create(type="checkbox", slug=slug(), name="Terms", properties={
            "form_label": "I accept the terms"}, metadata={"legal": True}),
        org.polar.custom_fields.create(type="select", slug=slug(), name="Size", properties={
            "options": [{"value": "s", "label": "Small"}, {"value": "m", "label": "Medium"}]}),
    ]
    assert [f.type for f in made] == ["text", "number", "date", "checkbox", "select"]
    text, number, date, checkbox, select = made
    assert text.properties.textarea is True and text.properties.max_length == 80
    assert number.properties.ge == 1 and number.properties.le == 500
    assert date.properties.ge == 1767225600
    assert checkbox.metadata == {"legal": True} and checkbox.organization_id == org.id
    assert [o.value for o in select.properties.options] == ["s", "m"]
    again = org.polar.custom_fields.get(select.id)
    assert again.slug == select.slug and again.modified_at is None


def test_slugs_are_unique_per_organization_and_freed_by_deletion(floe, org):
    taken = slug()
    first = org.polar.custom_fields.create(type="checkbox", slug=taken, name="One", properties={})
    with pytest.raises(HTTPValidationError) as refused:
        org.polar.custom_fields.create(type="text", slug=taken, name="Two", properties={})
    assert locs(refused) == [["body", "slug"]]

    # Another organization may use the same slug.
    other = floe.client(floe.token(floe.organization()))
    assert other.custom_fields.create(type="text", slug=taken, name="Theirs", properties={}).slug == taken

    org.polar.custom_fields.delete(first.id)
    with pytest.raises(ResourceNotFound):
        org.polar.custom_fields.get(first.id)
    with pytest.raises(ResourceNotFound):
        org.polar.custom_fields.delete(first.id)
    assert org.polar.custom_fields.create(type="text", slug=taken, name="Reborn", properties={}).name == "Reborn"


def test_update_keeps_the_type(org):
    field = org.polar.custom_fields.create(type="number", slug=slug(), name="Seats", properties={"ge": 1})
    renamed = org.polar.custom_fields.update(field.id, type="number", name="Licences", properties={"ge": 2, "le": 9})
    assert renamed.name == "Licences" and renamed.properties.le == 9 and renamed.slug == field.slug
    assert renamed.modified_at is not None
    # Absent and null leave a field as it is.
    same = org.polar.custom_fields.update(field.id, type="number", name=None)
    assert same.name == "Licences" and same.properties.ge == 2
    with pytest.raises(HTTPValidationError) as refused:
        org.polar.custom_fields.update(field.id, type="text", name="Company")
    assert locs(refused) == [["body", "type"]]
    taken = org.polar.custom_fields.create(type="text", slug=slug(), name="Other", properties={})
    with pytest.raises(HTTPValidationError) as refused:
        org.polar.custom_fields.update(field.id, type="number", slug=taken.slug)
    assert locs(refused) == [["body", "slug"]]


def test_validation_names_the_field(org):
    cases = [
        ({"type": "text", "slug": "Not A Slug", "name": "x", "properties": {}}, [["body", "text", "slug"]]),
        ({"type": "text", "slug": slug(), "name": "", "properties": {"min_length": -1}},
         [["body", "text", "name"], ["body", "text", "properties", "min_length"]]),
        ({"type": "number", "slug": slug(), "name": "n", "properties": {"ge": 5, "le": 1}},
         [["body", "number", "properties", "le"]]),
        ({"type": "select", "slug": slug(), "name": "s", "properties": {"options": []}},
         [["body", "select", "properties", "options"]]),
        ({"type": "select", "slug": slug(), "name": "s", "properties": {"options": [{"value": "a"}]}},
         [["body", "select", "properties", "options", 0, "label"]]),
        ({"type": "text", "slug": slug(), "name": "t", "properties": {}, "organization_id": str(uuid.uuid4())},
         [["body", "organization_id"]]),
        ({"type": "text", "slug": slug(), "name": "t", "properties": {}, "metadata": {"": "x"}},
         [["body", "text", "metadata", "", "[key]"]]),
    ]
    for body, expected in cases:
        with pytest.raises(HTTPValidationError) as refused:
            org.polar.custom_fields.create(**body)
        assert locs(refused) == expected, body
    with pytest.raises(HTTPValidationError) as refused:
        org.polar.custom_fields.create(type="colour", slug=slug(), name="c", properties={})
    assert locs(refused)[0][:2] == ["body", "type"]


def test_list_filters_and_sorting(org):
    tag = uuid.uuid4().hex[:6]
    org.polar.custom_fields.create(type="text", slug=f"b-{tag}", name=f"Beta {tag}", properties={})
    org.polar.custom_fields.create(type="number", slug=f"a-{tag}", name=f"Alpha {tag}", properties={})
    org.polar.custom_fields.create(type="checkbox", slug=f"c-{tag}", name=f"Gamma {tag}", properties={})
    listed = org.polar.custom_fields.list(query=tag, limit=10)
    assert [f.slug for f in listed.items] == [f"a-{tag}", f"b-{tag}", f"c-{tag}"]  # by slug
    assert listed.pagination.total_count == 3
    by_name_desc = org.polar.custom_fields.list(query=tag, sorting=["-name"]).items
    assert [f.name for f in by_name_desc] == [f"Gamma {tag}", f"Beta {tag}", f"Alpha {tag}"]
    assert [f.type for f in org.polar.custom_fields.list(query=tag, type=["number", "checkbox"]).items] == ["number", "checkbox"]
    assert org.polar.custom_fields.list(query=f"alpha {tag}").pagination.total_count == 1  # names, case-insensitively
    with pytest.raises(HTTPValidationError) as refused:
        org.polar.custom_fields.list(sorting=["colour"])
    assert locs(refused) == [["query", "sorting", 0]]
