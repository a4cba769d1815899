from django.urls import path

from facecommons.contributions import views, views_image

urlpatterns: list = [
    path("my/photos/<uuid:contribution_id>/image/", views_image.contribution_image_page, name="contribution-image"),
    # Contributor pages (web).
    path("upload/", views.upload_page, name="upload"),
    path("guidelines/", views.guidelines_page, name="guidelines"),
    path("my/photos/", views.photos_page, name="my-photos"),
    path("my/photos/status/", views.photos_status, name="my-photos-status"),
    path("my/photos/<uuid:contribution_id>/", views.photo_detail_page, name="my-photo"),
    path("my/photos/<uuid:contribution_id>/review-request/", views.photo_review_request,
         name="my-photo-review-request"),
    path("my/photos/<uuid:contribution_id>/delete/", views.photo_delete, name="my-photo-delete"),
]
