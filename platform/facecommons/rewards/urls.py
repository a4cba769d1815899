from django.urls import path

from facecommons.rewards import views

urlpatterns = [
    path("donate/", views.donate, name="donate"),
    path("rewards/", views.my_rewards, name="rewards-me"),
    path("rewards/choice/", views.my_rewards_toggle, name="rewards-choice"),
    path("rewards/multipliers/", views.multipliers, name="rewards-multipliers"),
    path("rewards/estimate/", views.estimate, name="rewards-estimate"),
]
