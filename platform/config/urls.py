"""Top-level URLs. Each app owns ``urls.py`` (pages) and ``api_urls.py`` (API v1)."""

from django.contrib import admin
from django.urls import include, path
from django.utils import timezone
from django.views.decorators.cache import cache_page
from django.views.decorators.http import last_modified
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

api_v1 = [
    path("", include("facecommons.accounts.api_urls")),
    path("", include("facecommons.contributions.api_urls")),
    path("", include("facecommons.pipeline.api_urls")),
    path("", include("facecommons.moderation.api_urls")),
    path("", include("facecommons.releases.api_urls")),
    path("", include("facecommons.evaluation.api_urls")),
    path("", include("facecommons.workbench.api_urls")),
    path("", include("facecommons.rewards.api_urls")),
]

# The catalogues are compiled before the process starts and never change while it runs: the
# JavaScript catalogue is built once per language and process (the cache key carries the active
# language) and browsers keep it a day; the page asks for it with its language in the URL, so a
# switch of language is a new URL, and a restart (a deployment) answers conditional requests anew.
STARTED = timezone.now()
javascript_catalog = last_modified(lambda request, **kwargs: STARTED)(
    cache_page(24 * 3600, key_prefix=f"jsi18n-{STARTED.timestamp():.0f}")(JavaScriptCatalog.as_view()))

urlpatterns = [
    path("admin/", admin.site.urls),
    # The language switcher posts here (Django's set_language: a cookie, then back).
    path("i18n/", include("django.conf.urls.i18n")),
    # The interface strings of static/*.js in the visitor's language (gettext() in JS).
    path("jsi18n/", javascript_catalog, name="javascript-catalog"),
    path("accounts/", include("allauth.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include(api_v1)),
    path("", include("facecommons.common.urls")),
    path("", include("facecommons.accounts.urls")),
    path("", include("facecommons.contributions.urls")),
    path("", include("facecommons.pipeline.urls")),
    path("moderation/", include("facecommons.moderation.urls")),
    path("", include("facecommons.releases.urls")),
    path("", include("facecommons.evaluation.urls")),
    path("", include("facecommons.workbench.urls")),
    path("", include("facecommons.rewards.urls")),
]

# JSON under /api/, the HTML pages elsewhere (facecommons.common.views).
handler400 = "facecommons.common.views.bad_request"
handler403 = "facecommons.common.views.permission_denied"
handler404 = "facecommons.common.views.page_not_found"
handler500 = "facecommons.common.views.server_error"
