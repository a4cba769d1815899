from django.urls import path

from facecommons.contributions import views_image

urlpatterns: list = [
    path("my/photos/<uuid:contribution_id>/image/", views_image.contribution_image_page, name="contribution-image"),
]
