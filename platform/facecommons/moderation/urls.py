from django.urls import path

from facecommons.moderation import views

urlpatterns: list = [
    path("", views.review_page, name="moderation-review"),
    path("agreement/", views.agreement_page, name="moderation-agreement"),
    path("audit/", views.audit_page, name="moderation-audit"),
    path("escalations/", views.escalations_page, name="moderation-escalations"),
]
