from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from campus import views
from courses import views as course_views

urlpatterns = [
    path("", views.home, name="home"),
    path("courses/", course_views.my_courses, name="my_courses"),
    path("courses/<int:pk>/notice/", course_views.post_notice, name="course_notice"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("chat/", include("smartcampus_chat.urls")),
]
