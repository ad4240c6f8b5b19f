from django.contrib import admin

from courses.models import Course, Enrolment, Section


class EnrolmentInline(admin.TabularInline):
    model = Enrolment
    extra = 1
    raw_id_fields = ["user"]


class SectionInline(admin.TabularInline):
    model = Section
    extra = 0


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "ends_on"]
    search_fields = ["code", "title"]
    inlines = [SectionInline, EnrolmentInline]
