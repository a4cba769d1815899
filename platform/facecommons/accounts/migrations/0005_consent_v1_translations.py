"""The first consent text in every shipped language, so that a contributor reads what they
accept in their own language from the start. Added only while version 1 is still the
seeded text (an edited installation keeps its own); the admin edits or adds others.

Each translation keeps the original's paragraphs and list items in the same order (the
comprehension check points to the same passage in every language)."""

from django.db import migrations

TRANSLATIONS = {
    "es": ("Consentimiento para participar", """\
Face Commons recoge fotos de rostros, con las categorías que eliges declarar, para crear un
conjunto de datos abierto que represente a las personas que los conjuntos de datos actuales dejan
fuera, y para medir si los modelos de reconocimiento facial funcionan con justicia para todas las personas.

Al aceptar, confirmas que:
- tienes 18 años o más, y cada foto que subes te muestra a ti y solo a ti;
- tus fotos y las categorías que declaraste pueden ser revisadas por nuestros moderadores y, una vez
  aprobadas, incluidas en versiones del conjunto de datos entregadas a investigadores aprobados bajo un
  acuerdo de uso de datos que prohíbe volver a identificar a las personas y cualquier uso de vigilancia;
- las fotos son datos biométricos: quitamos todos los metadatos (incluida la ubicación) de cada copia
  que guardamos o entregamos, nunca las mostramos en una dirección pública y registramos cada acceso;
- puedes retirarte en cualquier momento. Entonces borramos cada foto y cada archivo derivado que
  tengamos, te quitamos de todas las versiones futuras y pedimos a los investigadores que descargaron
  versiones anteriores que borren tus fotos.
"""),
    "pt-br": ("Consentimento para participar", """\
O Face Commons coleta fotos de rostos, com as categorias que você escolhe declarar, para criar um
conjunto de dados aberto que represente as pessoas que os conjuntos de dados atuais deixam de fora, e
para medir se os modelos de reconhecimento facial funcionam de forma justa para todas as pessoas.

Ao aceitar, você confirma que:
- você tem 18 anos ou mais, e cada foto que você envia mostra você e somente você;
- suas fotos e as categorias declaradas podem ser revisadas por nossos moderadores e, depois de
  aprovadas, incluídas em versões do conjunto de dados liberadas para pesquisadores aprovados sob um
  acordo de uso de dados que proíbe identificar as pessoas de novo e qualquer uso de vigilância;
- fotos são dados biométricos: removemos todos os metadados (inclusive a localização) de cada cópia
  que guardamos ou liberamos, nunca as mostramos em um endereço público e registramos cada acesso;
- você pode desistir a qualquer momento. Então apagamos cada foto e cada arquivo derivado que temos,
  retiramos você de todas as versões futuras e pedimos aos pesquisadores que baixaram versões
  anteriores que apaguem suas fotos.
"""),
    "fr": ("Consentement à participer", """\
Face Commons recueille des photos de visages, avec les catégories que vous choisissez de déclarer,
pour construire un jeu de données ouvert qui représente les personnes que les jeux de données
actuels oublient, et pour mesurer si les modèles de reconnaissance faciale sont justes pour tout le monde.

En acceptant, vous confirmez que :
- vous avez 18 ans ou plus, et chaque photo que vous envoyez vous montre, vous et personne d'autre ;
- vos photos et les catégories déclarées peuvent être examinées par nos modérateurs et, une fois
  approuvées, incluses dans des versions du jeu de données publiées pour des chercheurs approuvés, sous
  un accord d'utilisation des données qui interdit de réidentifier les personnes et toute surveillance ;
- les photos sont des données biométriques : nous retirons toutes les métadonnées (y compris le lieu)
  de chaque copie que nous gardons ou publions, ne les montrons jamais à une adresse publique, et
  enregistrons chaque accès ;
- vous pouvez vous retirer à tout moment. Nous supprimons alors chaque photo et chaque fichier dérivé
  que nous détenons, vous retirons de toutes les versions futures, et demandons aux chercheurs qui ont
  téléchargé des versions précédentes de supprimer vos photos.
"""),
    "hi": ("भाग लेने की सहमति", """\
Face Commons चेहरों की तस्वीरें इकट्ठा करता है, साथ में वे श्रेणियाँ जो आप बताना चुनते हैं, ताकि
एक खुला डेटासेट बने जिसमें वे लोग भी हों जिन्हें आज के डेटासेट छोड़ देते हैं, और यह मापा जा सके
कि चेहरा पहचानने वाले मॉडल सबके लिए कितनी निष्पक्षता से काम करते हैं।

स्वीकार करके आप पुष्टि करते हैं कि:
- आपकी उम्र 18 वर्ष या उससे अधिक है, और आपकी भेजी हर तस्वीर में केवल आप ही हैं;
- आपकी तस्वीरें और बताई गई श्रेणियाँ हमारे मॉडरेटर देख सकते हैं और, मंज़ूरी के बाद, उन्हें
  डेटासेट के संस्करणों में शामिल किया जा सकता है, जो मंज़ूर शोधकर्ताओं को एक डेटा-उपयोग समझौते
  के तहत दिए जाते हैं; यह समझौता लोगों को दोबारा पहचानने और निगरानी के हर उपयोग को मना करता है;
- तस्वीरें बायोमेट्रिक डेटा हैं: हम अपने पास रखी या जारी की गई हर प्रति से सारा मेटाडेटा (स्थान
  सहित) हटा देते हैं, उन्हें कभी किसी सार्वजनिक पते पर नहीं दिखाते, और हर पहुँच का रिकॉर्ड रखते हैं;
- आप कभी भी अपनी सहमति वापस ले सकते हैं। तब हम अपने पास की हर तस्वीर और उससे बनी हर फ़ाइल
  मिटा देते हैं, आपको आगे के सभी संस्करणों से हटा देते हैं, और जिन शोधकर्ताओं ने पिछले संस्करण
  डाउनलोड किए थे उनसे आपकी तस्वीरें मिटाने के लिए कहते हैं।
"""),
    "sw": ("Idhini ya kushiriki", """\
Face Commons hukusanya picha za nyuso, pamoja na makundi unayochagua kueleza, ili kujenga seti ya
data iliyo wazi inayowawakilisha watu ambao seti za data za leo huwaacha nje, na kupima kama mifumo
ya utambuzi wa nyuso inafanya kazi kwa haki kwa kila mtu.

Kwa kukubali unathibitisha kwamba:
- una umri wa miaka 18 au zaidi, na kila picha unayopakia inakuonyesha wewe na wewe peke yako;
- picha zako na makundi uliyoeleza zinaweza kukaguliwa na wasimamizi wetu na, zikishaidhinishwa,
  kujumuishwa katika matoleo ya seti ya data yanayotolewa kwa watafiti walioidhinishwa chini ya
  makubaliano ya matumizi ya data yanayokataza kuwatambua watu tena na matumizi yoyote ya upelelezi;
- picha ni data ya kibayometriki: tunaondoa metadata yote (pamoja na mahali) kutoka kila nakala
  tunayohifadhi au kutoa, hatuzionyeshi kamwe kwenye anwani ya umma, na tunarekodi kila anayezifikia;
- unaweza kujiondoa wakati wowote. Kisha tunafuta kila picha na kila faili iliyotokana nayo tuliyo
  nayo, tunakuondoa kwenye matoleo yote yajayo, na tunawaambia watafiti waliopakua matoleo ya awali
  wafute picha zako.
"""),
    "ar": ("الموافقة على المشاركة", """\
يجمع Face Commons صور الوجوه، مع الفئات التي تختار أن تصرّح بها، لبناء مجموعة بيانات مفتوحة تمثّل
الأشخاص الذين تتركهم مجموعات البيانات الحالية، ولقياس مدى عدالة نماذج التعرّف على الوجوه مع الجميع.

بقبولك تؤكّد أنّ:
- عمرك 18 سنة أو أكثر، وكل صورة ترفعها تُظهرك أنت وحدك؛
- قد يراجع المشرفون لدينا صورك والفئات التي صرّحت بها، وبعد الموافقة عليها قد تُضمَّن في إصدارات من
  مجموعة البيانات تُتاح لباحثين معتمدين بموجب اتفاقية لاستخدام البيانات تمنع إعادة التعرّف على
  الأشخاص وأي استخدام للمراقبة؛
- الصور بيانات بيومترية: نزيل كل البيانات الوصفية (ومنها الموقع) من كل نسخة نحفظها أو نتيحها، ولا
  نعرضها أبدًا على عنوان عام، ونسجّل كل وصول إليها؛
- يمكنك الانسحاب في أي وقت. عندها نحذف كل صورة وكل ملف مشتق منها لدينا، ونزيلك من كل الإصدارات
  القادمة، ونطلب من الباحثين الذين نزّلوا إصدارات سابقة حذف صورك.
"""),
}

# The seeded English text starts so (accounts/0002); an installation that changed it keeps its own.
SEEDED_START = "Face Commons collects photos of faces, with the categories you choose to declare"


def forwards(apps, schema_editor):
    ConsentVersion = apps.get_model("accounts", "ConsentVersion")
    ConsentTranslation = apps.get_model("accounts", "ConsentTranslation")
    v1 = ConsentVersion.objects.filter(version=1).first()
    if v1 is None or not v1.text.startswith(SEEDED_START):
        return
    for language, (title, text) in TRANSLATIONS.items():
        ConsentTranslation.objects.get_or_create(parent=v1, language=language, defaults={"title": title, "text": text})


def backwards(apps, schema_editor):
    ConsentTranslation = apps.get_model("accounts", "ConsentTranslation")
    ConsentTranslation.objects.filter(parent__version=1, language__in=list(TRANSLATIONS)).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_consent_translations_and_language")]
    operations = [migrations.RunPython(forwards, backwards)]
