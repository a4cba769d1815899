"""URLs for the error-path tests: the real site plus two views that fail unexpectedly."""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from config.urls import handler400, handler403, handler404, handler500  # noqa: F401
from config.urls import urlpatterns as site_urls


class BoomApi(APIView):
    permission_classes = [AllowAny]

    def get(self, request: Request) -> HttpResponse:
        raise KeyError("an unexpected bug inside an API view")


def boom_plain(request: HttpRequest) -> HttpResponse:
    raise KeyError("an unexpected bug outside DRF")


urlpatterns = [
    path("api/v1/_boom/", BoomApi.as_view()),
    path("api/v1/_boom_plain/", boom_plain),
    path("_boom_page/", boom_plain),
    *site_urls,
]
