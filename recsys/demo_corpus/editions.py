"""Content of the demo corpus's editions in Arabic, Chinese, German and Spanish (data only).

recsys.demo_corpus turns it into articles (`generate(languages=True)`). Each edition is
the newsroom's own version of an English storyline development (the same names, places and figures,
written for that edition, not a word-for-word translation), so the same story can be found across
languages and the widget has right-to-left and CJK headlines to render.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

LANGUAGES: tuple[str, ...] = ("ar", "zh", "de", "es")


@dataclass(frozen=True)
class Edition:
    """One development of an English storyline, in one language: its headline and paragraphs."""

    headline: str
    paragraphs: tuple[str, str, str]


# storyline slug -> language -> the editions of the storyline's developments 0, 1, ... in order.
EDITIONS: Mapping[str, Mapping[str, tuple[Edition, ...]]] = {
    "tern-probe-asteroid-velka": {
        "ar": (
            Edition(
                'المسبار "تيرن" يصل إلى الكويكب "فيلكا" بعد رحلة استمرت أربع سنوات',
                (
                    'وصل المسبار "تيرن" التابع لوكالة الفضاء الأوريلية إلى الكويكب "فيلكا" بعد رحلة '
                    "استمرت أربع سنوات، وأطلق محركاته الدافعة ليتوافق مع مدار الكويكب.",
                    'وهتف المراقبون في مركز التحكم "أستيريون" التابع للوكالة عندما أكدت الإشارات الأولى '
                    "أن المسبار بلغ موقعه. وقطع المسبار أكثر من 900 مليون كيلومتر منذ إطلاقه.",
                    'وقال جوناه ويتكومب، مدير مهمة "تيرن": "كل مناورة عند فيلكا هي الأولى من نوعها '
                    "بالنسبة لنا. جاذبية الكويكب ضعيفة جداً لدرجة أن المسبار يضطر إلى الطيران بجانبه "
                    'بدلاً من الدوران حوله."',
                ),
            ),
            Edition(
                'أول صور مقربة للكويكب "فيلكا" تكشف سطحاً مغطى بالصخور',
                (
                    'أظهرت أولى الصور المقربة التي أرسلها المسبار "تيرن" أن الكويكب "فيلكا" مغطى '
                    "بالصخور، وبعضها بحجم منزل.",
                    "والتُقطت الصور بالأبيض والأسود من مسافة 20 كيلومتراً، وتُظهر تفاصيل بحجم سيارة. "
                    "ويبلغ قطر الكويكب نحو 1.3 كيلومتر.",
                    'وقالت روث أبرنيثي، عالمة الكواكب في جامعة كالدر: "فيلكا كبسولة زمنية من لحظة ولادة '
                    'المجموعة الشمسية. قد يخبرنا طينه من أين جاءت مياه الأرض."',
                ),
            ),
        ),
        "zh": (
            Edition(
                "特恩号探测器历时四年抵达小行星韦尔卡",
                (
                    "奥雷利安航天局的特恩号探测器在历时四年的飞行后抵达小行星韦尔卡，并点燃推进器，使自身"
                    "轨道与小行星保持一致。",
                    "当首批信号确认探测器已经就位时，航天局阿斯特里昂控制中心的任务人员欢呼起来。探测器自"
                    "发射以来已飞行超过9亿公里。",
                    "特恩号任务经理乔纳·惠特科姆表示：“在韦尔卡的每一次机动对我们来说都是第一次。小行星的"
                    "引力非常微弱，特恩号只能与它伴飞，而无法环绕它运行。”",
                ),
            ),
            Edition(
                "小行星韦尔卡首批近距离图像显示表面布满巨石",
                (
                    "特恩号探测器传回的首批近距离图像显示，小行星韦尔卡表面布满巨石，其中一些有房子那么大。",
                    "这些黑白图像是在20公里的距离上拍摄的，可以分辨出汽车大小的地貌。韦尔卡的直径约为1.3"
                    "公里。",
                    "卡尔德大学行星科学家露丝·阿伯内西说：“韦尔卡是太阳系诞生时留下的时间胶囊。它的黏土可"
                    "能告诉我们地球上的水从何而来。”",
                ),
            ),
        ),
        "de": (
            Edition(
                "Sonde Tern erreicht nach vierjähriger Reise den Asteroiden Velka",
                (
                    "Die Sonde Tern der Aurelischen Raumfahrtagentur hat nach einer vierjährigen Reise "
                    "den Asteroiden Velka erreicht und ihre Triebwerke gezündet, um sich seiner "
                    "Umlaufbahn anzupassen.",
                    "Im Kontrollzentrum Asterion der Agentur jubelten die Mitarbeiter, als die ersten "
                    "Signale bestätigten, dass die Sonde in Position war. Tern hat seit dem Start mehr "
                    "als 900 Millionen Kilometer zurückgelegt.",
                    "„Jedes Manöver an Velka ist für uns eine Premiere“, sagte Jonah Whitcombe, "
                    "Missionsleiter von Tern. „Die Schwerkraft des Asteroiden ist so schwach, dass Tern "
                    "neben ihm herfliegen muss, statt ihn zu umkreisen.“",
                ),
            ),
            Edition(
                "Erste Nahaufnahmen zeigen mit Felsbrocken übersäten Asteroiden Velka",
                (
                    "Die ersten Nahaufnahmen der Sonde Tern zeigen, dass der Asteroid Velka mit "
                    "Felsbrocken übersät ist, von denen manche so groß wie ein Haus sind.",
                    "Die Schwarz-Weiß-Bilder wurden aus 20 Kilometern Entfernung aufgenommen und zeigen "
                    "Strukturen von der Größe eines Autos. Velka hat einen Durchmesser von etwa 1,3 "
                    "Kilometern.",
                    "„Velka ist eine Zeitkapsel aus der Entstehung des Sonnensystems“, sagte die "
                    "Planetenforscherin Ruth Abernethy von der Calder-Universität. „Seine Tonminerale "
                    "könnten uns verraten, woher das Wasser der Erde stammt.“",
                ),
            ),
        ),
        "es": (
            Edition(
                "La sonda Tern llega al asteroide Velka tras un viaje de cuatro años",
                (
                    "La sonda Tern de la Agencia Espacial Aureliana ha llegado al asteroide Velka tras "
                    "un viaje de cuatro años y ha encendido sus propulsores para igualar la órbita del "
                    "asteroide.",
                    "Los controladores de la misión en el centro de control Asterion de la agencia "
                    "aplaudieron cuando las primeras señales confirmaron que la sonda estaba en "
                    "posición. Tern ha recorrido más de 900 millones de kilómetros desde su lanzamiento.",
                    "«Cada maniobra en Velka es una primicia para nosotros», dijo Jonah Whitcombe, "
                    "director de la misión Tern. «La gravedad del asteroide es tan débil que Tern tiene "
                    "que volar a su lado en lugar de orbitarlo».",
                ),
            ),
            Edition(
                "Las primeras imágenes cercanas del asteroide Velka muestran una superficie llena de rocas",
                (
                    "Las primeras imágenes cercanas enviadas por la sonda Tern muestran que el asteroide "
                    "Velka está cubierto de rocas, algunas tan grandes como una casa.",
                    "Las imágenes en blanco y negro se tomaron a 20 kilómetros de distancia y muestran "
                    "detalles del tamaño de un coche. Velka mide unos 1,3 kilómetros de diámetro.",
                    "«Velka es una cápsula del tiempo del nacimiento del sistema solar», afirmó Ruth "
                    "Abernethy, científica planetaria de la Universidad de Calder. «Sus arcillas podrían "
                    "decirnos de dónde vino el agua de la Tierra».",
                ),
            ),
        ),
    },
    "kestrel-battery-plant": {
        "ar": (
            Edition(
                '"كيستريل موتورز" تؤكد بناء مصنع للبطاريات في أشبي فيلدز',
                (
                    'أكدت شركة "كيستريل موتورز" أنها ستبني مصنعاً لخلايا البطاريات على أرض مطار أشبي '
                    "فيلدز السابق قرب غريفورد، في أكبر استثمار لها منذ عقود.",
                    "واختارت الشركة أشبي فيلدز بدلاً من موقع منافس في الخارج بعد أشهر من المفاوضات مع "
                    "الوزراء. وتعتزم استثمار 1.8 مليار جنيه إسترليني في المصنع.",
                    'وقال فيكتور هالدين، الرئيس التنفيذي للشركة: "ستكون أشبي فيلدز قلب كيستريل موتورز '
                    'للسنوات الثلاثين المقبلة. صناعة البطاريات هنا تعني صناعة السيارات هنا."',
                ),
            ),
            Edition(
                'الوزير: منحة حكومية ساعدت في جذب مصنع بطاريات "كيستريل"',
                (
                    'قال وزير الأعمال إن منحة حكومية كانت حاسمة في إقناع "كيستريل موتورز" ببناء مصنع '
                    "البطاريات في أشبي فيلدز بدلاً من الخارج.",
                    "وقال الوزير أمام البرلمان إن المنحة البالغة 250 مليون جنيه إسترليني ستُسترد أضعافاً "
                    "مضاعفة من خلال الضرائب والأجور. ويُتوقع أن يوظف المصنع 2400 شخص بشكل مباشر.",
                    'وقال بول ميريمان، رئيس مجلس مقاطعة غريفورد: "هذا أكبر استثمار تشهده غريفورد منذ جيل '
                    'كامل."',
                ),
            ),
        ),
        "zh": (
            Edition(
                "凯斯特雷尔汽车确认在阿什比菲尔兹建设电池厂",
                (
                    "凯斯特雷尔汽车公司确认，将在格雷福德附近的阿什比菲尔兹旧机场建设一座电池芯工厂，这是"
                    "该公司数十年来最大的一笔投资。",
                    "经过与政府部长数月的谈判，公司最终选择了阿什比菲尔兹，而非海外的一处竞争选址。公司计"
                    "划为该工厂投资18亿英镑。",
                    "凯斯特雷尔汽车首席执行官维克托·霍尔丹表示：“阿什比菲尔兹将是凯斯特雷尔汽车未来三十年"
                    "的核心。在这里造电池，就意味着在这里造汽车。”",
                ),
            ),
            Edition(
                "部长称政府补助助力引进凯斯特雷尔电池厂",
                (
                    "商务部长表示，一笔政府补助是说服凯斯特雷尔汽车将电池厂建在阿什比菲尔兹而非海外的关键"
                    "因素。",
                    "部长在议会发言时说，这笔2.5亿英镑的补助将通过税收和工资得到数倍回报。该工厂满负荷运"
                    "转时预计将直接雇用2400人。",
                    "格雷福德郡议会领袖保罗·梅里曼说：“这是格雷福德一代人以来见过的最大一笔投资。”",
                ),
            ),
        ),
        "de": (
            Edition(
                "Kestrel Motors bestätigt Batteriewerk in Ashby Fields",
                (
                    "Kestrel Motors hat bestätigt, auf dem ehemaligen Flugplatz Ashby Fields bei "
                    "Greyford ein Werk für Batteriezellen zu bauen, die größte Investition des "
                    "Unternehmens seit Jahrzehnten.",
                    "Das Unternehmen entschied sich nach monatelangen Verhandlungen mit der Regierung "
                    "für Ashby Fields und gegen einen konkurrierenden Standort im Ausland. Kestrel "
                    "Motors will 1,8 Milliarden Pfund in das Werk investieren.",
                    "„Ashby Fields wird für die nächsten dreißig Jahre das Herz von Kestrel Motors "
                    "sein“, sagte Vorstandschef Viktor Haldane. „Wer hier Batterien baut, baut hier auch "
                    "Autos.“",
                ),
            ),
            Edition(
                "Staatliche Förderung holte Kestrel-Batteriewerk nach Ashby Fields, sagt Minister",
                (
                    "Eine staatliche Förderung hat nach Angaben des Wirtschaftsministers den Ausschlag "
                    "gegeben, dass Kestrel Motors sein Batteriewerk in Ashby Fields und nicht im Ausland "
                    "baut.",
                    "Im Parlament sagte der Minister, die Förderung von 250 Millionen Pfund werde sich "
                    "über Steuern und Löhne um ein Vielfaches auszahlen. Bei voller Auslastung soll das "
                    "Werk 2.400 Menschen direkt beschäftigen.",
                    "„Das ist die größte Investition, die Greyford seit einer Generation gesehen hat“, "
                    "sagte Paul Merriman, Vorsitzender des Kreisrats von Greyford.",
                ),
            ),
        ),
        "es": (
            Edition(
                "Kestrel Motors confirma una planta de baterías en Ashby Fields",
                (
                    "Kestrel Motors ha confirmado que construirá una planta de celdas de baterías en el "
                    "antiguo aeródromo de Ashby Fields, cerca de Greyford, su mayor inversión en "
                    "décadas.",
                    "La empresa eligió Ashby Fields frente a un emplazamiento rival en el extranjero "
                    "tras meses de negociaciones con el Gobierno. Kestrel Motors prevé invertir 1.800 "
                    "millones de libras en la planta.",
                    "«Ashby Fields será el corazón de Kestrel Motors durante los próximos treinta años. "
                    "Fabricar baterías aquí significa fabricar coches aquí», dijo Viktor Haldane, "
                    "consejero delegado de la compañía.",
                ),
            ),
            Edition(
                "Una subvención pública ayudó a atraer la planta de baterías de Kestrel, según el ministro",
                (
                    "El ministro de Empresa ha asegurado que una subvención pública fue decisiva para "
                    "convencer a Kestrel Motors de construir su planta de baterías en Ashby Fields y no "
                    "en el extranjero.",
                    "En el Parlamento, el ministro afirmó que la ayuda de 250 millones de libras se "
                    "recuperará con creces en impuestos y salarios. A pleno rendimiento, la planta "
                    "empleará directamente a 2.400 personas.",
                    "«Es la mayor inversión que ha visto Greyford en una generación», dijo Paul "
                    "Merriman, líder del consejo del condado de Greyford.",
                ),
            ),
        ),
    },
    "eastbrook-river-tarne-floods": {
        "ar": (
            Edition(
                "نهر تارن يفيض على ضفتيه في إيستبروك بعد أمطار غزيرة",
                (
                    "فاض نهر تارن على ضفتيه في إيستبروك بعد أيام من الأمطار الغزيرة، وغمرت المياه "
                    "الشوارع في الجزء المنخفض من البلدة.",
                    "وارتفع منسوب النهر بشكل حاد خلال الليل بعد أن هطلت أمطار شهر كامل في يومين على وادي "
                    "تارن. وبلغ المنسوب 3.4 متر فوق مستواه المعتاد عند محطة القياس في إيستبروك.",
                    "وقالت نادية قريشي، مديرة مخاطر الفيضانات في المنطقة لدى هيئة الممرات المائية: "
                    '"ارتفع نهر تارن أسرع وأعلى مما توقعته أي نشرة. لقد تجاوزت المياه الحواجز ببساطة."',
                ),
            ),
            Edition(
                "إجلاء المئات مع تفاقم الفيضانات في إيستبروك",
                (
                    "أُجلي مئات الأشخاص من منازلهم في إيستبروك مع استمرار ارتفاع منسوب نهر تارن خلال الليل.",
                    "وتنقل رجال الإطفاء والمتطوعون من باب إلى باب في شارعي ميل لين وتانرز رو لمساعدة "
                    "السكان المسنين على الوصول إلى بر الأمان. وغمرت المياه نحو 260 منزلاً و40 متجراً في "
                    "البلدة.",
                    'وقال بيل ستانارد، الذي يعيش في ميل لين منذ 30 عاماً: "تسربت المياه من بين ألواح '
                    'الأرضية في دقائق. فقدنا كل شيء في الطابق الأرضي."',
                ),
            ),
        ),
        "zh": (
            Edition(
                "塔恩河暴雨后在伊斯特布鲁克决堤",
                (
                    "连日暴雨过后，塔恩河在伊斯特布鲁克漫过河岸，镇上地势较低处的街道被洪水淹没。",
                    "两天之内，塔恩河谷降下了相当于一个月的雨量，河水在夜间急剧上涨。伊斯特布鲁克水文站测"
                    "得的水位比正常水平高出3.4米。",
                    "水道管理局地区防洪经理娜迪亚·库雷希说：“塔恩河上涨的速度和高度超出了所有预报。洪水直"
                    "接漫过了防洪屏障。”",
                ),
            ),
            Edition(
                "伊斯特布鲁克洪灾加剧 数百人紧急撤离",
                (
                    "随着塔恩河水位在夜间持续上涨，伊斯特布鲁克数百名居民被迫撤离家园。",
                    "消防员和志愿者在磨坊巷和制革匠街挨家挨户敲门，帮助年长居民转移到安全地带。镇上约有26"
                    "0所住宅和40家商铺被淹。",
                    "在磨坊巷住了30年的比尔·斯坦纳德说：“水几分钟内就从地板缝里涌了上来。我们一楼的东西全"
                    "没了。”",
                ),
            ),
        ),
        "de": (
            Edition(
                "River Tarne tritt nach Starkregen in Eastbrook über die Ufer",
                (
                    "Nach tagelangem Starkregen ist der River Tarne in Eastbrook über die Ufer getreten "
                    "und hat Straßen im unteren Teil der Stadt überflutet.",
                    "Der Fluss stieg über Nacht stark an, nachdem im Tarne-Tal in zwei Tagen so viel "
                    "Regen gefallen war wie sonst in einem Monat. Am Pegel Eastbrook lag der Wasserstand "
                    "3,4 Meter über dem Normalwert.",
                    "„Der Tarne stieg schneller und höher, als es irgendeine Vorhersage erwarten ließ“, "
                    "sagte Nadia Qureshi, zuständig für den Hochwasserschutz bei der "
                    "Wasserstraßenbehörde. „Die Barrieren wurden einfach überspült.“",
                ),
            ),
            Edition(
                "Hunderte Menschen in Eastbrook evakuiert, Hochwasser verschärft sich",
                (
                    "In Eastbrook sind Hunderte Menschen aus ihren Häusern evakuiert worden, weil der "
                    "River Tarne über Nacht weiter gestiegen ist.",
                    "Feuerwehrleute und Freiwillige gingen in der Mill Lane und am Tanners Row von Tür "
                    "zu Tür und brachten ältere Bewohner in Sicherheit. Rund 260 Wohnhäuser und 40 "
                    "Geschäfte in Eastbrook wurden überflutet.",
                    "„Das Wasser kam innerhalb von Minuten durch die Dielen“, sagte Bill Stannard, der "
                    "seit 30 Jahren in der Mill Lane wohnt. „Wir haben im Erdgeschoss alles verloren.“",
                ),
            ),
        ),
        "es": (
            Edition(
                "El río Tarne se desborda en Eastbrook tras fuertes lluvias",
                (
                    "El río Tarne se ha desbordado en Eastbrook tras varios días de lluvias intensas, "
                    "inundando las calles de la parte baja de la ciudad.",
                    "El caudal subió bruscamente durante la noche después de que en dos días cayera en "
                    "el valle del Tarne la lluvia de todo un mes. En el aforo de Eastbrook, el nivel "
                    "llegó a 3,4 metros por encima de lo normal.",
                    "«El Tarne subió más rápido y más alto de lo que preveía cualquier pronóstico. Las "
                    "barreras simplemente se desbordaron», dijo Nadia Qureshi, responsable de "
                    "inundaciones de la Agencia de Vías Navegables en la zona.",
                ),
            ),
            Edition(
                "Cientos de evacuados en Eastbrook al empeorar las inundaciones",
                (
                    "Cientos de personas han sido evacuadas de sus casas en Eastbrook porque el río "
                    "Tarne siguió subiendo durante la noche.",
                    "Bomberos y voluntarios recorrieron puerta por puerta Mill Lane y Tanners Row para "
                    "poner a salvo a los vecinos mayores. Unas 260 viviendas y 40 comercios de Eastbrook "
                    "quedaron inundados.",
                    "«El agua entró por las tablas del suelo en cuestión de minutos. Lo perdimos todo en "
                    "la planta baja», contó Bill Stannard, que vive en Mill Lane desde hace 30 años.",
                ),
            ),
        ),
    },
}
