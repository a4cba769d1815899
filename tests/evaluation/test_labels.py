"""The label filters: every key shown by its label, the taxonomy read once per request."""

from __future__ import annotations

import pytest
from django.template import Context, Template

from facecommons.evaluation.templatetags import fc_labels

pytestmark = pytest.mark.django_db
PAGE = Template("{% load fc_labels %}{% for i in rows %}{{ 'skin_tone'|category_label }}|"
                "{{ '25_34'|value_label:'age_range' }}|{{ 'gender&ethnicity'|category_label }};{% endfor %}")


def test_a_page_reads_the_taxonomy_once_however_many_cells(django_assert_num_queries):
    fc_labels._begin()  # what request_started does
    try:
        with django_assert_num_queries(2):  # categories, then their values
            html = PAGE.render(Context({"rows": range(100)}))
    finally:
        fc_labels._end()
    cells = html.split(";")[:-1]
    assert len(cells) == 100 and len(set(cells)) == 1
    skin, age, both = cells[0].split("|")
    assert "skin_tone" not in skin and age != "25_34" and "&" not in both and " × " in both


def test_outside_a_request_labels_are_read_afresh(django_assert_num_queries):
    with django_assert_num_queries(6):
        PAGE.render(Context({"rows": range(1)}))  # three label filters, two queries each
