from django.contrib import admin

from courses.models import Course, Enrolment


class EnrolmentInline(admin.TabularInline):
    model = Enrolment
    extra = 1
    raw_id_fields = ["user"]


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["code", "title"]
    search_fields = ["code", "title"]
    inlines = [EnrolmentInline]
