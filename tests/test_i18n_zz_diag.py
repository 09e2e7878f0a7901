import pytest
from tests.test_i18n_browser import prepare_trainee, sign_in
from lms.auth.models import Role
from lms.extensions import db

JS = """() => { const out=[]; const W=document.documentElement.clientWidth;
for (const el of document.querySelectorAll('body *')) { const r=el.getBoundingClientRect();
 if (r.width>0 && (r.right>W+1 || r.left<-1)) out.push(el.tagName+'.'+el.className+' '+Math.round(r.left)+'..'+Math.round(r.right)+' w'+Math.round(r.width)); }
return out.slice(0,15); }"""

@pytest.mark.browser
def test_diag(browser, live_server, demo_course, make_user):
    admin = make_user(Role.ADMIN)
    for lang in ("en", "ar"):
        db.session.rollback()
        trainee, code = prepare_trainee(lang, demo_course, make_user, admin)
        ctx = browser.new_context(viewport={"width": 360, "height": 900})
        page = ctx.new_page()
        sign_in(page, live_server, trainee)
        page.goto(f"{live_server}/")
        print(lang, "catalogue", page.evaluate(JS))
        page.goto(f"{live_server}/courses/{demo_course.slug}/quizzes/final-assessment")
        page.locator("form[action$='/start'] button[type=submit]").click()
        page.wait_for_url("**/quiz-attempts/**")
        print(lang, "quiz", page.evaluate(JS))
        ctx.close()
